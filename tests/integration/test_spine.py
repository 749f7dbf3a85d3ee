"""The spine end to end: ingest → inbox → classify worker → audit → outbox → forward worker → Moogsoft."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from alerts.models import AlertOutbox, AlertRule, EventAuditLog, IngestBatch
from tests.alerts.factories import make_rule
from tests.conftest import wait_for

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def _rule(**kw) -> AlertRule:
    return make_rule(**({"match_string": "Interface.*down", "match_type": "regex", "priority": 800} | kw))


def test_event_is_classified_audited_and_delivered_to_moogsoft(client, workers, moog_sink, api_key):
    rule = _rule()
    workers.start("classify")
    workers.start("forward")
    now = datetime.now(UTC).isoformat()

    response = client.post(
        "/api/v2/ingest",
        data={
            "timestamp": now,
            "hostname": "Router-01",
            "message": "Interface Gi0/1 changed state to down",
            "syslog_severity": 2,
        },
        content_type="application/json",
        headers={"X-API-Key": api_key},
    )

    assert response.status_code == 202
    cid = response.json()["correlation_id"]
    assert response.json()["status"] == "accepted"
    row = wait_for(lambda: EventAuditLog.objects.filter(correlation_id=cid).first(), message="audit row")
    assert (row.rule_id, row.handling, row.team_assignment, row.hostname) == (
        rule.id,
        "Page_and_ticket",
        "NETO",
        "router-01",
    )
    delivered = wait_for(lambda: moog_sink.received(accepted_only=True), message="moogsoft delivery")
    body = delivered[0]["body"]
    assert body["external_id"] == cid
    assert body["source"] == "router-01"
    assert body["severity"] == 4  # syslog 2 (critical) -> Moogsoft 4 (major)
    assert body["manager"] == "MUTT" and body["class"] == "NETO" and body["rule_id"] == rule.id
    wait_for(lambda: EventAuditLog.objects.get(correlation_id=cid).forward_status == "sent", message="sent status")
    assert IngestBatch.objects.get().status == "done"


def test_log_only_event_is_audited_but_not_forwarded(client, workers, moog_sink, api_key):
    _rule(match_string="disk", match_type="contains", prod_handling="Log_only")
    workers.start("classify,forward")
    response = client.post(
        "/api/v2/ingest",
        data={"timestamp": datetime.now(UTC).isoformat(), "hostname": "srv-9", "message": "disk usage 40%"},
        content_type="application/json",
        headers={"X-API-Key": api_key},
    )
    cid = response.json()["correlation_id"]
    row = wait_for(lambda: EventAuditLog.objects.filter(correlation_id=cid).first(), message="audit row")
    assert row.handling == "Log_only" and row.forward_status == "none"
    # Committed with the audit row in one transaction: no outbox row means nothing will ever be sent.
    assert not AlertOutbox.objects.filter(correlation_id=cid).exists()
    assert moog_sink.received() == []


@pytest.mark.parametrize("headers", [{}, {"X-API-Key": "wrong"}, {"Authorization": "Bearer wrong"}])
def test_missing_or_wrong_api_key_is_refused(client, db, headers):
    response = client.post(
        "/api/v2/ingest",
        data={"timestamp": "2026-01-01T00:00:00Z", "hostname": "h", "message": "m"},
        content_type="application/json",
        headers=headers,
    )
    assert response.status_code == 401
    assert "API key" in response.json()["error"]
    assert IngestBatch.objects.count() == 0
