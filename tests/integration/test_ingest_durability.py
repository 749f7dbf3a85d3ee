"""What an operator must be able to trust when PostgreSQL or Redis fails under the front door."""

from __future__ import annotations

from datetime import UTC, datetime

import orjson
import pytest

from alerts.models import EventAuditLog, IngestBatch
from ingest.backpressure import backlog_forget
from remediation.sweeper import stale_work_rewake
from tests.conftest import wait_for

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def _post(client, api_key, **fields):
    event = {"timestamp": datetime.now(UTC).isoformat(), "hostname": "edge-1", "message": "BGP neighbor down"}
    return client.post(
        "/api/v2/ingest", orjson.dumps(event | fields), content_type="application/json", headers={"X-API-Key": api_key}
    )


def test_postgresql_down_is_503_with_retry_after_and_ingest_recovers(client, api_key, redis_client, stop_service):
    assert _post(client, api_key).status_code == 202  # a persistent connection is open
    stop_service("pg")
    backlog_forget()
    response = _post(client, api_key)
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert response.json() == {"error": "storage unavailable, retry later"}
    stop_service.start()
    # The stale connection is replaced on the next request: no 5xx once PostgreSQL is back.
    assert _post(client, api_key).status_code == 202
    assert IngestBatch.objects.count() == 2


def test_redis_down_still_accepts_and_the_sweeper_gets_the_event_classified(client, api_key, workers, stop_service):
    stop_service("redis")
    response = _post(client, api_key, message="accepted while redis was down")
    assert response.status_code == 202
    cid = response.json()["correlation_id"]
    assert IngestBatch.objects.get().status == "pending"

    stop_service.start()
    workers.start("classify")
    # Nobody was woken while Redis was away: the sweeper finds the waiting batch and wakes a classifier.
    assert stale_work_rewake(grace_seconds=0).stale_batches == 1
    row = wait_for(
        lambda: EventAuditLog.objects.filter(correlation_id=cid).first(),
        timeout=60,
        message="event classified after Redis came back",
    )
    assert row.message == "accepted while redis was down"
    assert IngestBatch.objects.get().status == "done"
