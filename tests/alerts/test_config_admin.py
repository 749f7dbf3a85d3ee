"""Changes made in the admin are audited in the same transaction and bump the rule version."""

from __future__ import annotations

import pytest

from alerts.models import AlertRule, ConfigAuditLog, DevelopmentHost, DeviceTeam
from alerts.rule_stats import rule_hits_record
from mutt_project import redis_keys
from tests.alerts.factories import make_rule

pytestmark = pytest.mark.django_db(transaction=True)

RULE_FORM = {
    "match_type": "contains",
    "match_string": "link down",
    "priority": 300,
    "prod_handling": "Page_only",
    "dev_handling": "Log_only",
    "team_assignment": "NETO",
    "description": "",
}


def _version(redis_client) -> int:
    return int(redis_client.get(redis_keys.RULES_VERSION) or 0)


def test_creating_a_rule_in_the_admin_is_audited_with_who_and_why(admin_client, redis_client):
    before = _version(redis_client)
    response = admin_client.post("/admin/alerts/alertrule/add/", RULE_FORM | {"is_active": "on", "reason": "CHG-1234"})
    assert response.status_code == 302
    rule = AlertRule.objects.get()
    assert rule.created_by == "admin"
    entry = ConfigAuditLog.objects.get()
    assert (entry.operation, entry.table_name, entry.record_id, entry.changed_by, entry.reason) == (
        "CREATE",
        "alert_rules",
        rule.id,
        "admin",
        "CHG-1234",
    )
    assert entry.old_values is None and entry.new_values["match_string"] == "link down"
    assert entry.correlation_id is not None
    assert _version(redis_client) > before


def test_changing_a_rule_records_old_and_new_values(admin_client, redis_client):
    rule = make_rule(match_string="link down", prod_handling="Page_only")
    before = _version(redis_client)
    response = admin_client.post(
        f"/admin/alerts/alertrule/{rule.id}/change/", RULE_FORM | {"is_active": "on", "prod_handling": "Ticket_only"}
    )
    assert response.status_code == 302
    entry = ConfigAuditLog.objects.get()
    assert entry.operation == "UPDATE" and entry.reason == "admin"
    assert (entry.old_values["prod_handling"], entry.new_values["prod_handling"]) == ("Page_only", "Ticket_only")
    assert _version(redis_client) > before


def test_deleting_and_bulk_deleting_are_audited(admin_client):
    one, two, three = make_rule(), make_rule(), make_rule()
    admin_client.post(f"/admin/alerts/alertrule/{one.id}/delete/", {"post": "yes"})
    admin_client.post(
        "/admin/alerts/alertrule/", {"action": "delete_selected", "post": "yes", "_selected_action": [two.id, three.id]}
    )
    assert AlertRule.objects.count() == 0
    deletes = ConfigAuditLog.objects.filter(operation="DELETE")
    assert sorted(deletes.values_list("record_id", flat=True)) == sorted([one.id, two.id, three.id])
    assert all(e.old_values["id"] == e.record_id and e.new_values is None for e in deletes)
    bulk = deletes.exclude(record_id=one.id)
    assert len({e.correlation_id for e in bulk}) == 1  # one request, one correlation id


def test_bulk_deactivation_is_audited_per_rule_and_bumps_the_version(admin_client, redis_client):
    rules = [make_rule(), make_rule(), make_rule(is_active=False)]
    before = _version(redis_client)
    admin_client.post(
        "/admin/alerts/alertrule/", {"action": "deactivate_rules", "_selected_action": [r.id for r in rules]}
    )
    assert not AlertRule.objects.filter(is_active=True).exists()
    entries = ConfigAuditLog.objects.all()
    assert sorted(e.record_id for e in entries) == sorted([rules[0].id, rules[1].id])
    assert all(e.old_values["is_active"] and not e.new_values["is_active"] for e in entries)
    assert _version(redis_client) > before


def test_dev_hosts_and_device_teams_are_audited_too(admin_client):
    admin_client.post(
        "/admin/alerts/developmenthost/add/", {"hostname": "Lab-Router-1", "description": "", "reason": "lab"}
    )
    host = DevelopmentHost.objects.get()
    assert host.hostname == "lab-router-1" and host.added_by == "admin"
    admin_client.post("/admin/alerts/deviceteam/add/", {"hostname": "db-1", "team_assignment": "DBA"})
    team = DeviceTeam.objects.get()
    admin_client.post(f"/admin/alerts/deviceteam/{team.id}/change/", {"hostname": "db-1", "team_assignment": "STORAGE"})
    admin_client.post(f"/admin/alerts/developmenthost/{host.id}/delete/", {"post": "yes"})
    trail = [(e.table_name, e.operation) for e in ConfigAuditLog.objects.order_by("id")]
    assert trail == [
        ("development_hosts", "CREATE"),
        ("device_teams", "CREATE"),
        ("device_teams", "UPDATE"),
        ("development_hosts", "DELETE"),
    ]
    update = ConfigAuditLog.objects.get(operation="UPDATE")
    assert (update.old_values["team_assignment"], update.new_values["team_assignment"]) == ("DBA", "STORAGE")


def test_rule_list_shows_hits_and_last_match(admin_client, redis_client):
    fired = make_rule(match_string="fires")
    make_rule(match_string="silent")
    rule_hits_record({fired.id: 42}, now=1_700_000_000)
    page = admin_client.get("/admin/alerts/alertrule/").content.decode()
    assert "42" in page and "2023-11-14 22:13:20 UTC" in page
    assert "never" in page  # the silent rule


def test_bulk_orm_writes_bump_the_rule_version_too(redis_client):
    rule = make_rule()
    steps = [
        lambda: AlertRule.objects.filter(pk=rule.pk).update(priority=900),
        lambda: DevelopmentHost.objects.bulk_create([DevelopmentHost(hostname="lab-9")]),
        lambda: DeviceTeam.objects.bulk_create([DeviceTeam(hostname="db-9", team_assignment="DBA")]),
        lambda: AlertRule.objects.bulk_update([rule], ["priority"]),
        lambda: DeviceTeam.objects.all().delete(),
    ]
    for step in steps:
        before = _version(redis_client)
        step()
        assert _version(redis_client) > before


def test_a_dev_host_differing_only_in_case_is_refused_in_the_form(admin_client):
    admin_client.post("/admin/alerts/developmenthost/add/", {"hostname": "lab-1", "description": ""})
    response = admin_client.post("/admin/alerts/developmenthost/add/", {"hostname": "LAB-1", "description": ""})
    assert response.status_code == 200
    assert "already exists" in response.content.decode()
    assert DevelopmentHost.objects.count() == 1
    assert ConfigAuditLog.objects.count() == 1
