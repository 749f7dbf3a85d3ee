"""Reads for the alerts domain."""

from __future__ import annotations

from alerts.models import AlertRule, DevelopmentHost, DeviceTeam
from alerts.rule_engine import RuleSpec


def rules_active_specs() -> list[RuleSpec]:
    return [
        RuleSpec(
            id=r["id"],
            match_type=r["match_type"],
            priority=r["priority"],
            prod_handling=r["prod_handling"],
            dev_handling=r["dev_handling"],
            team_assignment=r["team_assignment"],
            match_string=r["match_string"],
            trap_oid=r["trap_oid"],
            syslog_severity=r["syslog_severity"],
        )
        for r in AlertRule.objects.filter(is_active=True).values(
            "id",
            "match_type",
            "priority",
            "prod_handling",
            "dev_handling",
            "team_assignment",
            "match_string",
            "trap_oid",
            "syslog_severity",
        )
    ]


def dev_hosts_list() -> list[str]:
    return list(DevelopmentHost.objects.values_list("hostname", flat=True))


def device_teams_map() -> dict[str, str]:
    return dict(DeviceTeam.objects.values_list("hostname", "team_assignment"))
