"""Small factories for the alerts tests."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from alerts.models import AlertRule, IngestBatch


def make_rule(**kw) -> AlertRule:
    spec = {
        "match_string": "down",
        "match_type": "contains",
        "priority": 500,
        "prod_handling": "Page_and_ticket",
        "dev_handling": "Email_only",
        "team_assignment": "NETO",
    } | kw
    rule = AlertRule(**spec)
    rule.full_clean()
    rule.save()
    return rule


def make_event(**kw) -> dict:
    return {
        "timestamp": datetime.now(UTC).isoformat(),
        "hostname": "router-1",
        "message": "link down",
        "source": "syslog",
        "correlation_id": str(uuid.uuid4()),
    } | kw


def make_batch(events: list[dict]) -> IngestBatch:
    return IngestBatch.objects.create(events=events, event_count=len(events), received_at=datetime.now(UTC))
