"""/api/v2/rules over HTTP: list envelope and filters, writes audited under the key's name, model validation as 400."""

from __future__ import annotations

import json

import pytest

from alerts.models import AlertRule, ConfigAuditLog
from tests.alerts.factories import make_rule
from tests.api.conftest import RULE

pytestmark = pytest.mark.django_db


def test_created_rule_is_answered_201_and_audited_under_the_key_name(writer):
    response = writer.post("/api/v2/rules", {**RULE, "reason": "new core alert"}, format="json")

    assert response.status_code == 201
    body = response.json()
    assert body["message"] == "Rule created"
    assert body["rule"]["id"] == body["id"] and body["rule"]["priority"] == 200
    assert "reason" not in body["rule"]
    rule = AlertRule.objects.get(pk=body["id"])
    assert rule.created_by == "ci-pipeline"
    audit = ConfigAuditLog.objects.get(table_name="alert_rules", record_id=rule.pk)
    assert (audit.operation, audit.changed_by, audit.reason) == ("CREATE", "ci-pipeline", "new core alert")
    assert audit.new_values["match_string"] == RULE["match_string"]


def test_list_has_the_reference_envelope_and_filters(reader):
    make_rule(match_string="alpha", priority=10)
    make_rule(match_string="beta", priority=900, is_active=False)
    make_rule(match_string="gamma", priority=500, team_assignment="SRE")

    everything = reader.get("/api/v2/rules").json()
    assert set(everything) == {"rules", "total", "limit", "offset"}
    assert [r["match_string"] for r in everything["rules"]] == ["beta", "gamma", "alpha"]  # priority desc
    assert (everything["total"], everything["limit"], everything["offset"]) == (3, 100, 0)

    assert [r["match_string"] for r in reader.get("/api/v2/rules?is_active=true").json()["rules"]] == ["gamma", "alpha"]
    assert [r["match_string"] for r in reader.get("/api/v2/rules?team_assignment=SRE").json()["rules"]] == ["gamma"]
    assert [r["match_string"] for r in reader.get("/api/v2/rules?search=ph").json()["rules"]] == ["alpha"]
    page = reader.get("/api/v2/rules?limit=1&offset=1").json()
    assert [r["match_string"] for r in page["rules"]] == ["gamma"] and page["total"] == 3


@pytest.mark.parametrize(
    "query, field",
    [
        ("colour=red", "colour"),
        ("limit=0", "limit"),
        ("limit=1001", "limit"),
        ("offset=x", "offset"),
        ("is_active=maybe", "is_active"),
        ("match_type=glob", "match_type"),
    ],
)
def test_bad_or_unknown_query_parameters_are_400(reader, query, field):
    response = reader.get(f"/api/v2/rules?{query}")
    assert response.status_code == 400
    assert response.json()["error"] == "Invalid request" and field in response.json()["detail"]


def test_put_and_patch_change_only_the_fields_sent(writer):
    rule = make_rule(match_string="fan failure", priority=300, team_assignment="DC")

    put = writer.put(f"/api/v2/rules/{rule.pk}", {"priority": 500, "reason": "incident review"}, format="json")
    patch = writer.patch(f"/api/v2/rules/{rule.pk}", {"prod_handling": "Ignore"}, format="json")

    assert put.status_code == 200 and put.json()["message"] == "Rule updated"
    assert patch.status_code == 200
    rule.refresh_from_db()
    assert (rule.priority, rule.match_string, rule.team_assignment) == (500, "fan failure", "DC")
    assert rule.prod_handling == "Suppress"  # the v2.3 alias, mapped by the model
    update = ConfigAuditLog.objects.filter(operation="UPDATE", record_id=rule.pk).order_by("id").first()
    assert update.old_values["priority"] == 300 and update.new_values["priority"] == 500
    assert update.reason == "incident review" and update.changed_by == "ci-pipeline"


@pytest.mark.parametrize(
    "change, field",
    [
        ({"priority": 0}, "priority"),
        ({"priority": 1001}, "priority"),
        ({"match_type": "regex", "match_string": "(?<=lookbehind)x"}, "match_string"),
        ({"match_type": "oid_prefix", "match_string": None, "trap_oid": "1.3.x"}, "trap_oid"),
        ({"prod_handling": "alert"}, "prod_handling"),
        ({"match_string": None, "trap_oid": None, "syslog_severity": None}, "match_string"),
    ],
)
def test_invalid_rule_is_400_with_the_models_message_per_field(writer, change, field):
    response = writer.post("/api/v2/rules", {**RULE, **change}, format="json")

    assert response.status_code == 400, response.content
    body = response.json()
    assert body["error"] == "Invalid request"
    assert field in body["detail"] and isinstance(body["detail"][field], list)
    assert not AlertRule.objects.exists() and not ConfigAuditLog.objects.exists()


def test_delete_is_soft_and_takes_a_reason(writer):
    rule = make_rule()

    response = writer.delete(f"/api/v2/rules/{rule.pk}?reason=retired%20device")

    assert response.status_code == 200
    assert response.json()["message"] == "Rule deleted" and response.json()["rule"]["is_active"] is False
    rule.refresh_from_db()
    assert rule.is_active is False  # the row stays
    audit = ConfigAuditLog.objects.filter(record_id=rule.pk).latest("id")
    assert (audit.changed_by, audit.reason, audit.new_values["is_active"]) == ("ci-pipeline", "retired device", False)


def test_missing_rule_is_404_json(writer):
    for response in (writer.get("/api/v2/rules/999999"), writer.patch("/api/v2/rules/999999", {}, format="json")):
        assert response.status_code == 404
        assert response.json()["error"] == "Not found" and response.json()["detail"]["message"]


def test_method_not_allowed_is_405_json(writer):
    response = writer.post(f"/api/v2/rules/{make_rule().pk}", RULE, format="json")
    assert response.status_code == 405 and response.json()["error"] == "Method not allowed"


def test_body_that_is_not_json_is_415(writer):
    response = writer.post("/api/v2/rules", "match_string=x", content_type="application/x-www-form-urlencoded")
    assert response.status_code == 415 and response.json()["error"] == "Unsupported media type"


def test_malformed_json_is_400(writer):
    response = writer.post("/api/v2/rules", "{not json", content_type="application/json")
    assert response.status_code == 400 and response.json()["error"] == "Invalid request"


def test_oversized_body_is_413(writer, settings):
    settings.API_MAX_BODY_BYTES = 2048
    body = json.dumps({**RULE, "description": "x" * 5000})
    response = writer.post("/api/v2/rules", body, content_type="application/json")
    assert response.status_code == 413 and response.json()["error"] == "Request body too large"
    assert not AlertRule.objects.exists()


def test_list_of_many_rules_pages(reader):
    AlertRule.objects.bulk_create(
        AlertRule(match_string=f"m{i}", priority=1 + i, prod_handling="Log_only", dev_handling="Log_only")
        for i in range(150)
    )
    first = reader.get("/api/v2/rules").json()
    last = reader.get("/api/v2/rules?offset=100").json()
    assert (len(first["rules"]), len(last["rules"]), first["total"]) == (100, 50, 150)
    assert {r["id"] for r in first["rules"]}.isdisjoint({r["id"] for r in last["rules"]})


def test_unknown_api_path_is_404_json_in_production_mode(writer, settings):
    settings.DEBUG = False
    response = writer.get("/api/v2/no-such-thing")
    assert response.status_code == 404 and response.json()["error"] == "Not found"


def test_update_with_no_fields_is_400_and_writes_nothing(writer):
    rule = make_rule()
    response = writer.patch(f"/api/v2/rules/{rule.pk}", {"reason": "nothing"}, format="json")
    assert response.status_code == 400 and response.json()["detail"]["non_field_errors"] == ["No fields to update."]
    assert not ConfigAuditLog.objects.filter(operation="UPDATE").exists()
