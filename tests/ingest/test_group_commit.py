"""The shared INSERT of concurrent accepts: a failure of any kind reaches the caller, and the next accept still runs.

A connection PostgreSQL closed under us raises Django's ``InterfaceError``,
which is not a ``DatabaseError``. It used to escape the group commit with the
writer's role still taken, so that request answered 500 and every later accept
in the process waited for ever.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest
from django.db import InterfaceError, connection

from alerts.inbox import batch_accept
from alerts.models import IngestBatch
from ingest.service import IngestRefused, _store

pytestmark = pytest.mark.django_db(transaction=True)


class _Closed:
    """``connection.cursor`` as it behaves after the server closed the connection, ``times`` times."""

    def __init__(self, real, times: int):
        self.real = real
        self.left = times

    def __call__(self, *args, **kwargs):
        if self.left > 0:
            self.left -= 1
            raise InterfaceError("connection already closed")
        return self.real(*args, **kwargs)


def _accept_in_thread(results: list) -> threading.Thread:
    def run():
        try:
            batch_accept(events_json="[]", event_count=1, received_at=datetime.now(UTC))
            results.append("stored")
        except Exception as exc:  # noqa: BLE001 - the test reports whatever came out
            results.append(type(exc).__name__)
        finally:
            connection.close()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def test_an_interface_error_reaches_the_caller_and_the_next_accept_is_stored(monkeypatch):
    monkeypatch.setattr(connection, "cursor", _Closed(connection.cursor, times=1))
    with pytest.raises(InterfaceError):
        batch_accept(events_json="[]", event_count=1, received_at=datetime.now(UTC))
    monkeypatch.undo()

    results: list = []
    _accept_in_thread(results).join(timeout=60)
    assert results == ["stored"], "the accept after the failure never returned: the writer's role was left taken"
    assert IngestBatch.objects.count() == 1


def test_ingest_answers_503_while_every_connection_is_closed_and_stores_once_one_opens(monkeypatch):
    monkeypatch.setattr(connection, "cursor", _Closed(connection.cursor, times=1000))
    with pytest.raises(IngestRefused) as refused:
        _store(b"[]", 1, datetime.now(UTC))
    assert (refused.value.status, refused.value.reason) == (503, "storage_unavailable")
    assert refused.value.retry_after
    monkeypatch.undo()

    _store(b"[]", 1, datetime.now(UTC))
    assert IngestBatch.objects.count() == 1
