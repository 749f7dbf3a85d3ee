"""Sample configuration from the reference documents (v2.3 schema and v2.5 guide)."""

SAMPLE_RULES = [
    # v2.5 guide, "Example Rules"
    {"match_string": "CRITICAL", "match_type": "contains", "priority": 900,
     "prod_handling": "Page_and_ticket", "dev_handling": "Ticket_only", "team_assignment": "NETO"},
    {"match_string": "Interface.*down", "match_type": "regex", "priority": 800,
     "prod_handling": "Page_and_ticket", "dev_handling": "Email_only", "team_assignment": "NETO"},
    {"match_string": "disk.*full", "match_type": "regex", "priority": 700,
     "prod_handling": "Ticket_only", "dev_handling": "Log_only", "team_assignment": "UNIX"},
    # v2.3 schema sample rules (its "Ignore" is stored as Suppress; its
    # severity "Critical" is syslog 2). v2.3's lower number won; here the higher
    # one does, so its 5 / 10 / 20 become 996 / 991 / 981 (1001 - p, as
    # import_v23 converts) and the catch-all WARNING (100) stays the lowest of all.
    {"match_string": "Interface down", "match_type": "contains", "priority": 991,
     "prod_handling": "Page_and_ticket", "dev_handling": "Ticket_only", "team_assignment": "NETCORE"},
    {"trap_oid": "1.3.6.1.4.1.9.1.1.1.1", "match_type": "oid_prefix", "priority": 996,
     "prod_handling": "Page_and_ticket", "dev_handling": "Ticket_only", "team_assignment": "NETCORE"},
    {"match_string": "CPU utilization", "syslog_severity": 2, "match_type": "contains", "priority": 981,
     "prod_handling": "Ticket_only", "dev_handling": "Suppress", "team_assignment": "NETCORE"},
    {"match_string": "WARNING", "match_type": "contains", "priority": 100,
     "prod_handling": "Ticket_only", "dev_handling": "Suppress", "team_assignment": "NETO"},
]  # fmt: skip

SAMPLE_DEV_HOSTS = [
    {"hostname": "dev-switch-01", "description": "Development lab switch"},
    {"hostname": "test-router-02", "description": "QA environment router"},
]

SAMPLE_DEVICE_TEAMS = [
    {"hostname": "core-router-01", "team_assignment": "NETCORE"},
    {"hostname": "edge-firewall-01", "team_assignment": "SECURITY"},
    {"hostname": "dc-switch-01", "team_assignment": "NETCORE"},
]
