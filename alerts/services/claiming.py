"""Claiming: lease pending inbox batches to this worker (one committed statement).

The lease (status ``processing``, attempts + 1, ``lease_until``) is committed
before any work, so a worker killed mid-batch leaves a delivery count behind
and the batch is claimable again when the lease expires; a batch delivered
more than ``CLASSIFY_MAX_DELIVERIES`` times becomes a dead letter
(``alerts.services.committing``). docs/architecture.md, "Classify".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from django.conf import settings
from django.db import connection


@dataclass(frozen=True)
class ClaimedBatch:
    """An inbox batch leased by this worker."""

    id: int
    events: list[Any]  # normalised event dicts (ingest.parsing), possibly poisoned ones
    received_at: datetime
    attempts: int


# One statement, so one round trip and one implicit commit: lock up to
# ``limit`` unfinished batches (SKIP LOCKED: another worker got there first),
# keep the prefix whose events fit ``max_events`` (always at least one batch),
# and lease those. Relies on the partial index ingest_batches_unfinished.
# issue 13: a batch delivered before without finishing (its worker may have
# died on it) is leased alone, and a claim stops before one: a poison batch
# then kills its worker without taking innocent batches' deliveries with it.
_CLAIM_SQL = """
WITH cand AS (
    SELECT id, event_count, attempts FROM ingest_batches
     WHERE status = 'pending' OR (status = 'processing' AND lease_until < now())
     ORDER BY id
     LIMIT %(limit)s
     FOR UPDATE SKIP LOCKED
), chosen AS (
    SELECT id FROM (
        SELECT id, row_number() OVER (ORDER BY id) AS n, sum(event_count) OVER (ORDER BY id) AS events,
               count(*) FILTER (WHERE attempts > 0) OVER (ORDER BY id) AS suspects
          FROM cand
    ) running
     WHERE n = 1 OR (events <= %(max_events)s AND suspects = 0)
), leased AS (
    UPDATE ingest_batches b
       SET status = 'processing', attempts = attempts + 1, lease_until = now() + make_interval(secs => %(lease)s)
      FROM chosen
     WHERE b.id = chosen.id
    RETURNING b.id, b.events::text, b.received_at, b.attempts
)
SELECT leased.*, (SELECT count(*) FROM cand) FROM leased ORDER BY id
"""


def batches_claim(*, max_events: int) -> tuple[list[ClaimedBatch], bool]:
    """Lease pending batches holding up to ``max_events`` events (at least one batch).

    The lease (status, attempts+1, lease_until) is committed before any work,
    so a worker killed mid-batch leaves a delivery count behind; the batch is
    claimable again when the lease expires. Returns (batches, more_waiting).
    """
    limit = max(1, max_events)
    with connection.cursor() as cursor:
        if connection.in_atomic_block:
            raise RuntimeError("batches_claim must commit its lease on its own (not inside atomic)")
        cursor.execute(_CLAIM_SQL, {"limit": limit, "max_events": max_events, "lease": settings.CLASSIFY_LEASE_SECONDS})
        rows = cursor.fetchall()
    if not rows:
        return [], False
    candidates = rows[0][4]
    more = candidates > len(rows) or candidates >= limit
    claimed = [ClaimedBatch(id=r[0], events=orjson.loads(r[1]), received_at=r[2], attempts=r[3]) for r in rows]
    return claimed, more
