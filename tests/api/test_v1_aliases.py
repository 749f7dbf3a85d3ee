"""The v2.3 API paths answer as their /api/v2 counterparts: /api/v1/rules, /api/v1/audit-logs, /api/v1/metrics/current."""

from __future__ import annotations

import pytest

from alerts.models import AlertRule, ConfigAuditLog

pytestmark = pytest.mark.django_db

RULE = {"match_type": "contains", "match_string": "BGP down", "priority": 500, "prod_handling": "Ticket_only",
        "dev_handling": "Log_only", "team_assignment": "NETO"}  # fmt: skip


def test_v1_rules_create_list_and_audit_like_v2(writer, reader):
    created = writer.post("/api/v1/rules", RULE, format="json")
    assert created.status_code == 201
    rule_id = created.json()["id"]
    assert AlertRule.objects.filter(pk=rule_id, match_string="BGP down").exists()
    assert reader.get("/api/v1/rules").json() == reader.get("/api/v2/rules").json()
    assert reader.post("/api/v1/rules", RULE, format="json").status_code == 403  # read scope cannot write

    logs = reader.get("/api/v1/audit-logs").json()
    assert logs == reader.get("/api/v2/audit-logs").json()
    assert [row["record_id"] for row in logs["logs"]] == [rule_id]
    assert ConfigAuditLog.objects.count() == 1


def test_v1_metrics_current_is_the_metrics_endpoint(reader, anonymous, redis_client):
    v1 = reader.get("/api/v1/metrics/current")
    assert v1.status_code == 200
    assert v1.json().keys() == reader.get("/api/v2/metrics").json().keys()
    assert anonymous.get("/api/v1/metrics/current").status_code in (401, 403)
