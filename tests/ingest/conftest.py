"""Helpers for the ingest tests: posting as a sender would, the stored batches."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from alerts.models import IngestBatch
from ingest.backpressure import backlog_forget

URL = "/api/v2/ingest"


def event(**fields) -> dict:
    return {"timestamp": datetime.now(UTC).isoformat(), "hostname": "router-1", "message": "link down"} | fields


def stored_events() -> list[dict]:
    return [e for batch in IngestBatch.objects.order_by("id") for e in batch.events]


@pytest.fixture(autouse=True)
def fresh_backlog_reading():
    """Every test sees the backlog as it is now, not as a previous test left it."""
    backlog_forget()
    yield
    backlog_forget()


@pytest.fixture
def post(client, api_key):
    """``post(body, content_type=..., **headers)``: a POST to the ingest endpoint with a valid key."""

    def _post(body: bytes | str, content_type: str | None = "application/json", path: str = URL, **headers):
        headers = {"X-API-Key": api_key} | headers
        return client.generic("POST", path, body, content_type=content_type, headers=headers)

    return _post
