"""issue 13, bounds with real workers: a poison outbox row ends as a dead letter, a statement
cancelled by statement_timeout / lock_timeout makes the task retry (logged) instead of hanging,
and the granian ingest process recovers from a PostgreSQL restart."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

import orjson
import psycopg2
import pytest
import requests
from django.db import connection

from alerts.models import AlertOutbox, DeadLetter, EventAuditLog, IngestBatch
from alerts.wakeup import WakeKind, wake
from tests.conftest import _test_database_url, wait_for
from tests.forwarding.factories import audited_outbox_row
from tests.integration.test_ingest_server import ingest_server  # noqa: F401 - the granian fixture

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _empty_audit_log(transactional_db):
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE event_audit_log")


def _log(proc) -> str:
    return Path(proc.logfile.name).read_text()


def test_poison_outbox_row_becomes_a_dead_letter_after_max_deliveries(workers, moog_sink):
    # Innocent rows on both sides of the poison row (by id), so they share its chunk.
    before = [audited_outbox_row(message=f"link down {i}")[1] for i in range(3)]
    poison_audit, poison = audited_outbox_row(message="POISON ALERT")
    after = [audited_outbox_row(message=f"link up {i}")[1] for i in range(3)]
    worker = workers.start(
        "forward",
        env={"MUTT_TEST_CRASH_ON_FORWARD_MESSAGE": "POISON ALERT", "FORWARD_MAX_DELIVERIES": "2"},
    )
    wake(WakeKind.FORWARD, force=True)

    def dead_or_expire_lease():
        letter = DeadLetter.objects.filter(correlation_id=poison.correlation_id).first()
        if letter is None:
            # The worker died holding its lease: let it expire now instead of in a minute, and wake again.
            with connection.cursor() as cursor:
                cursor.execute("UPDATE alert_outbox SET next_attempt_at = now() WHERE next_attempt_at > now()")
            wake(WakeKind.FORWARD, force=True)
            time.sleep(1)
        return letter

    letter = wait_for(dead_or_expire_lease, timeout=120, interval=0.5, message="poison row dead-lettered")
    assert letter.stage == "forward"
    assert "not finished after 2 deliveries" in letter.last_error
    assert EventAuditLog.objects.get(id=poison_audit.id).forward_status == "dead"
    # Everyone else is delivered (at least once), the poison row never reached Moogsoft.
    innocent = {str(r.correlation_id) for r in before + after}
    wait_for(
        lambda: innocent <= {r["body"]["external_id"] for r in moog_sink.received(accepted_only=True)},
        timeout=60,
        message="innocent rows delivered",
    )
    assert str(poison.correlation_id) not in {r["body"]["external_id"] for r in moog_sink.received()}
    assert not AlertOutbox.objects.exists()
    assert worker.poll() is None  # the main process restarted its pool child each time
    assert "exitcode 71" in _log(worker)


@pytest.mark.parametrize(
    ("limits", "message"),
    [
        ({"WORKER_LOCK_TIMEOUT_MS": "500"}, "lock timeout"),
        ({"WORKER_STATEMENT_TIMEOUT_MS": "500", "WORKER_LOCK_TIMEOUT_MS": "0"}, "statement timeout"),
    ],
    ids=["lock_timeout", "statement_timeout"],
)
def test_a_statement_past_its_timeout_retries_the_task_and_succeeds_later(workers, moog_sink, limits, message):
    _audit, row = audited_outbox_row()
    worker = workers.start("forward", env=limits)
    blocker = psycopg2.connect(_test_database_url())
    try:
        with blocker.cursor() as cursor:  # a transaction holding the outbox, as a stuck migration would
            cursor.execute("LOCK TABLE alert_outbox IN ACCESS EXCLUSIVE MODE")
        wake(WakeKind.FORWARD, force=True)
        wait_for(
            lambda: f"canceling statement due to {message}" in _log(worker) and "retries" in _log(worker),
            timeout=60,
            message="the cancelled statement logged and the task retrying",
        )
        assert moog_sink.received() == []
    finally:
        blocker.rollback()
        blocker.close()
    received = wait_for(lambda: moog_sink.received(accepted_only=True), timeout=120, message="sent after the retry")
    assert [r["body"]["external_id"] for r in received] == [str(row.correlation_id)]
    wait_for(lambda: not AlertOutbox.objects.exists(), timeout=60, message="outbox drained")
    assert worker.poll() is None


def _post(url: str, api_key: str) -> requests.Response:
    event = {"timestamp": datetime.now(UTC).isoformat(), "hostname": "edge-1", "message": "BGP neighbor down"}
    return requests.post(
        url + "/api/v2/ingest",
        data=orjson.dumps(event),
        headers={"X-API-Key": api_key, "Content-Type": "application/json"},
        timeout=30,
    )


def test_granian_ingest_recovers_from_a_postgresql_restart(ingest_server, api_key, stop_service):  # noqa: F811
    assert _post(ingest_server, api_key).status_code == 202  # its connections are open
    stop_service("pg")
    down = [_post(ingest_server, api_key) for _ in range(3)]
    assert [r.status_code for r in down] == [503, 503, 503]
    assert all(r.headers["Retry-After"] for r in down)
    stop_service.start()
    # Every thread's stale connection is replaced: no request fails once PostgreSQL is back.
    statuses = [_post(ingest_server, api_key).status_code for _ in range(20)]
    assert statuses == [202] * 20
    connection.close()  # this test process's own connection died with the server
    assert IngestBatch.objects.count() == 21
