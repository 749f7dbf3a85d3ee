"""A rule written through the API decides the next ingested event (real classify workers), and a soft
delete keeps the row but stops it matching."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from alerts.models import AlertRule, ConfigAuditLog, EventAuditLog
from tests.conftest import wait_for

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def _ingest(client, api_key: str, message: str) -> str:
    response = client.post(
        "/api/v2/ingest",
        data={"timestamp": datetime.now(UTC).isoformat(), "hostname": "edge-7", "message": message},
        content_type="application/json",
        headers={"X-API-Key": api_key},
    )
    assert response.status_code == 202
    return response.json()["correlation_id"]


def _audit_row(cid: str) -> EventAuditLog:
    return wait_for(lambda: EventAuditLog.objects.filter(correlation_id=cid).first(), message="audit row")


def test_api_rule_matches_next_event_and_soft_delete_stops_it(client, workers, api_key, writer):
    workers.start("classify")
    before = _audit_row(_ingest(client, api_key, "BGP neighbour 10.0.0.1 flapping"))
    assert before.rule_id is None  # nothing matches yet: the worker has compiled its rules

    created = writer.post(
        "/api/v2/rules",
        {
            "match_string": "BGP neighbour .* flapping",
            "match_type": "regex",
            "priority": 700,
            "prod_handling": "Ticket_only",
            "dev_handling": "Log_only",
            "team_assignment": "NETO-BGP",
            "reason": "BGP flaps page nobody",
        },
        format="json",
    )
    assert created.status_code == 201
    rule_id = created.json()["id"]
    audit = ConfigAuditLog.objects.get(table_name="alert_rules", record_id=rule_id)
    assert audit.changed_by == writer.name == "ci-pipeline" and audit.reason == "BGP flaps page nobody"

    matched = _audit_row(_ingest(client, api_key, "BGP neighbour 10.0.0.2 flapping"))
    assert (matched.rule_id, matched.handling, matched.team_assignment) == (rule_id, "Ticket_only", "NETO-BGP")

    trace = writer.get(f"/api/v2/events/{matched.correlation_id}").json()
    assert trace["rule"]["id"] == rule_id and trace["event"]["handling"] == "Ticket_only"

    assert writer.delete(f"/api/v2/rules/{rule_id}?reason=noise").status_code == 200
    after = _audit_row(_ingest(client, api_key, "BGP neighbour 10.0.0.3 flapping"))
    assert after.rule_id is None and after.handling == "Log_only"
    assert AlertRule.objects.filter(pk=rule_id, is_active=False).exists()  # the row stays
