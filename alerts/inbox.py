"""Accepting a batch: ingest hands validated events to alerts here."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction

from alerts.models import IngestBatch
from alerts.wakeup import WakeKind, wake


def batch_accept(events: list[dict], received_at: datetime) -> int:
    """Store accepted events as ONE inbox row and wake the classifiers on commit.

    Raises the database error when PostgreSQL cannot take the batch; the
    caller answers 503 (nothing is accepted that cannot be stored).
    """
    with transaction.atomic():
        batch = IngestBatch.objects.create(events=events, event_count=len(events), received_at=received_at)
        transaction.on_commit(lambda: wake(WakeKind.CLASSIFY))
    return batch.pk
