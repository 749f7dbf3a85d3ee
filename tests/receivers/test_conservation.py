"""Conservation through the receivers: every message a TCP sender wrote is audited exactly once,
while the classify worker is SIGKILLed and PostgreSQL is stopped for a few seconds.

CI-sized (10,000 messages from 4 connections); bench/receivers.py runs the 100,000-message version.
"""

from __future__ import annotations

import signal
import socket
import threading
import time
import uuid

import pytest
from django.db import connection

from remediation.sweeper import stale_work_rewake
from tests.conftest import wait_for
from tests.receivers.conftest import start_receiver

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

CONNECTIONS = 4
PER_CONNECTION = 2500
# A batch claimed by the killed worker is taken again once its lease ends (the sweeper re-wakes it).
LEASE = {"CLASSIFY_LEASE_SECONDS": "5"}


def _audited(run: str) -> tuple[int, int]:
    connection.close()  # PostgreSQL restarted under this test's connection
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*), count(DISTINCT message) FROM event_audit_log WHERE message LIKE %s", [f"{run}-%"]
            )
            return cursor.fetchone()
    except Exception:
        return (0, 0)


def test_every_tcp_message_is_audited_once_through_a_worker_kill_and_a_database_stop(
    tmp_path, workers, stop_service, redis_client
):
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE event_audit_log")
    receiver = start_receiver(tmp_path, RECEIVER_MAX_PENDING="4000", DB_CONN_MAX_AGE="600")
    try:
        classify = workers.start("classify", concurrency=2, env=LEASE)
        run = f"cons{uuid.uuid4().hex[:8]}"
        halfway = threading.Barrier(CONNECTIONS + 1)
        resume = threading.Event()
        written = [0] * CONNECTIONS
        errors: list[BaseException] = []

        def send(n: int) -> None:
            try:
                with socket.create_connection(("127.0.0.1", receiver.ports["tcp"]), timeout=120) as sock:
                    for half in (0, 1):
                        lines = [
                            f"<14>Jan  2 10:00:00 host-{n} app: {run}-{n}-{i}\n".encode()
                            for i in range(half * PER_CONNECTION // 2, (half + 1) * PER_CONNECTION // 2)
                        ]
                        for start in range(0, len(lines), 100):
                            sock.sendall(b"".join(lines[start : start + 100]))
                            written[n] += len(lines[start : start + 100])
                        if half == 0:
                            halfway.wait(timeout=300)
                            resume.wait(timeout=300)
            except BaseException as exc:  # reported by the main thread
                errors.append(exc)

        threads = [threading.Thread(target=send, args=(n,), daemon=True) for n in range(CONNECTIONS)]
        for thread in threads:
            thread.start()
        halfway.wait(timeout=300)
        wait_for(lambda: _audited(run)[0] >= 500, timeout=120, message="classification under way")
        workers.stop(classify, signal.SIGKILL)  # mid-batch, without warning
        stop_service("pg")
        resume.set()  # the second halves are written while PostgreSQL is down: the receiver holds them
        wait_for(lambda: receiver.health()["storing"] is False, timeout=60, message="the receiver sees the outage")
        time.sleep(3)  # the outage lasts a few seconds (a fault's duration, not a wait for a result)
        stop_service.start()
        workers.start("classify", concurrency=2, env=LEASE)
        for thread in threads:
            thread.join(timeout=300)
        assert not errors, errors
        assert written == [PER_CONNECTION] * CONNECTIONS
        total = CONNECTIONS * PER_CONNECTION

        def all_audited() -> bool:
            connection.close()
            stale_work_rewake(grace_seconds=0)  # the Beat sweeper's job, once a killed claim's lease has ended
            return _audited(run)[0] >= total

        wait_for(all_audited, timeout=240, interval=1, message=f"{total} audit rows")
        assert _audited(run) == (total, total)  # each once
        assert receiver.metric("mutt_receiver_store_retries_total", reason="storage_unavailable") >= 1
        assert receiver.metric("mutt_ingest_dropped_total") == 0
    finally:
        receiver.stop()
        connection.close()  # the teardown's flush on a fresh connection (PostgreSQL was restarted)
