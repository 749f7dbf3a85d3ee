"""Classification with real Celery workers: live rule changes, redelivery, dead batches, sweeper, floods."""

from __future__ import annotations

import os
import signal
import subprocess
from datetime import UTC, datetime

import pytest
from django.db import connection

from alerts.models import AlertOutbox, AlertRule, ConfigAuditLog, DeadLetter, EventAuditLog, IngestBatch
from alerts.wakeup import WakeKind, wake_stale
from remediation.sweeper import stale_work_rewake
from tests.alerts.factories import make_batch, make_event
from tests.conftest import wait_for

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _empty_audit_log(transactional_db):
    # event_audit_log is unmanaged (partitioned by raw SQL): Django's flush leaves it alone.
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE event_audit_log")


def _send(client, api_key, **event) -> str:
    body = {"timestamp": datetime.now(UTC).isoformat(), "hostname": "core-1"} | event
    response = client.post("/api/v2/ingest", data=body, content_type="application/json", headers={"X-API-Key": api_key})
    assert response.status_code == 202
    return response.json()["correlation_id"]


def _audited(cid: str):
    return EventAuditLog.objects.filter(correlation_id=cid).first()


def _pool_children(proc: subprocess.Popen) -> list[int]:
    out = subprocess.run(["pgrep", "-P", str(proc.pid)], capture_output=True, text=True).stdout
    return [int(pid) for pid in out.split()]


def test_a_rule_saved_in_the_admin_changes_the_very_next_decision(admin_client, client, workers, api_key):
    form = {
        "match_type": "contains",
        "match_string": "BGP neighbor down",
        "priority": 700,
        "prod_handling": "Log_only",
        "dev_handling": "Log_only",
        "team_assignment": "NETO",
        "description": "",
        "is_active": "on",
    }
    assert admin_client.post("/admin/alerts/alertrule/add/", form).status_code == 302
    rule = AlertRule.objects.get()
    workers.start("classify")
    first = _send(client, api_key, message="BGP neighbor down 10.0.0.1")
    assert wait_for(lambda: _audited(first), message="first audit row").handling == "Log_only"

    response = admin_client.post(
        f"/admin/alerts/alertrule/{rule.id}/change/",
        form | {"prod_handling": "Page_and_ticket", "reason": "CHG-42 page on BGP"},
    )
    assert response.status_code == 302
    second = _send(client, api_key, message="BGP neighbor down 10.0.0.2")

    row = wait_for(lambda: _audited(second), message="second audit row")
    assert (row.rule_id, row.handling, row.forward_status) == (rule.id, "Page_and_ticket", "pending")
    change = ConfigAuditLog.objects.get(operation="UPDATE")
    assert (change.old_values["prod_handling"], change.new_values["prod_handling"]) == ("Log_only", "Page_and_ticket")
    assert (change.changed_by, change.reason) == ("admin", "CHG-42 page on BGP")


def test_a_worker_killed_mid_batch_leaves_exactly_one_audit_row_per_event(workers):
    worker = workers.start("classify", env={"CLASSIFY_LEASE_SECONDS": "5"})
    batch = make_batch([make_event(message=f"event {i}") for i in range(30_000)])
    wake_stale(WakeKind.CLASSIFY)
    wait_for(lambda: IngestBatch.objects.get(pk=batch.pk).status == "processing", message="batch claimed")
    for pid in _pool_children(worker):
        os.kill(pid, signal.SIGKILL)  # the main process survives and Celery redelivers the message

    def finished():
        stale_work_rewake(grace_seconds=0)  # the Beat sweeper, once the lease has expired
        return IngestBatch.objects.get(pk=batch.pk).status == "done"

    wait_for(finished, timeout=60, interval=1, message="batch done after redelivery")
    assert IngestBatch.objects.get(pk=batch.pk).attempts == 2  # killed once, finished on the second delivery
    assert EventAuditLog.objects.filter(batch_id=batch.pk).count() == 30_000
    assert EventAuditLog.objects.filter(batch_id=batch.pk).values("correlation_id").distinct().count() == 30_000


def test_a_batch_that_kills_its_worker_every_time_ends_as_a_dead_letter(workers):
    worker = workers.start(
        "classify",
        env={"CLASSIFY_LEASE_SECONDS": "5", "CLASSIFY_MAX_DELIVERIES": "2"},
        crash_on_message="kill the worker",
    )
    deadly = make_batch([make_event(message="fine"), make_event(message="kill the worker")])
    wake_stale(WakeKind.CLASSIFY)

    def dead():
        stale_work_rewake(grace_seconds=0)
        return IngestBatch.objects.get(pk=deadly.pk).status == "dead"

    wait_for(dead, timeout=60, interval=1, message="batch marked dead")
    letter = DeadLetter.objects.get(batch_id=deadly.pk)
    assert (letter.stage, letter.attempts) == ("classify", 3)
    assert [e["message"] for e in letter.payload["events"]] == ["fine", "kill the worker"]
    assert not EventAuditLog.objects.filter(batch_id=deadly.pk).exists()
    # The worker lives on and classifies the next batch.
    after = make_batch([make_event(message="next")])
    wake_stale(WakeKind.CLASSIFY)
    wait_for(lambda: IngestBatch.objects.get(pk=after.pk).status == "done", message="next batch")
    assert worker.poll() is None


def test_events_accepted_before_redis_was_flushed_are_classified_after_the_sweep(
    client, workers, api_key, redis_client
):
    events = [{"timestamp": datetime.now(UTC).isoformat(), "hostname": f"h{i}", "message": f"m {i}"} for i in range(50)]
    response = client.post(
        "/api/v2/ingest", data=events, content_type="application/json", headers={"X-API-Key": api_key}
    )
    assert response.status_code == 202
    cids = response.json()["correlation_ids"]
    redis_client.flushdb()  # the wake-up message and flag are gone
    workers.start("classify")

    result = stale_work_rewake(grace_seconds=0)

    assert result.stale_batches == 1
    wait_for(lambda: EventAuditLog.objects.filter(correlation_id__in=cids).count() == 50, message="classified")
    assert EventAuditLog.objects.count() == 50


def test_workers_racing_on_one_hosts_unmatched_events_raise_exactly_one_meta_alert(workers):
    env = {"UNHANDLED_EVENT_THRESHOLD": "50", "CLASSIFY_MAX_EVENTS_PER_CLAIM": "10"}
    for _ in range(3):
        workers.start("classify", env=env)
    for b in range(100):
        make_batch([make_event(hostname="noisy-7", message=f"unknown {b}.{i}") for i in range(5)])
    for _ in range(3):
        wake_stale(WakeKind.CLASSIFY)

    wait_for(lambda: not IngestBatch.objects.exclude(status="done").exists(), timeout=60, message="all classified")
    assert EventAuditLog.objects.filter(batch_id__isnull=False).count() == 500
    meta = EventAuditLog.objects.filter(batch_id__isnull=True)
    assert [(m.hostname, m.handling) for m in meta] == [("noisy-7", "Ticket_only")]
    assert AlertOutbox.objects.filter(correlation_id=meta[0].correlation_id).count() == 1
    assert AlertOutbox.objects.count() == 1
