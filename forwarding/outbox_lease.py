"""Leasing outbox rows: which alerts a forwarder sends next, and giving back what it did not send.

A lease is ``next_attempt_at`` pushed into the future in one committed
statement (claimed ``FOR UPDATE SKIP LOCKED``), so no row lock is held while a
worker waits for rate slots, and a worker that dies loses only its lease.
Rows are leased class by class in the order ``forwarding.priority.priority_classes()``
gives, oldest first within a class (docs/forwarding.md, "Priority, batches and staleness").
"""

from __future__ import annotations

import functools
import json
import math
from dataclasses import dataclass

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F
from django.db.models.functions import Greatest
from django.utils import timezone

from alerts.dynamic_config import runtime
from alerts.models import AlertOutbox
from forwarding.payload import Alert
from forwarding.priority import priority_classes


@dataclass
class LeasedAlert:
    """One leased outbox row (a plain record: the row lock was released at commit)."""

    id: int
    correlation_id: str
    audit_id: int | None
    audit_received_at: object
    payload: Alert
    attempts: int
    due_at: object = None  # next_attempt_at before the lease (restored on release: order kept)
    rank: int = 0  # position of its priority class (0 = drained first)
    age: float = 0.0  # seconds since it entered the outbox (database clock)
    moog: dict | None = None  # the mapped Moogsoft event (batch mode maps once, before sending)
    deliveries: int = 1  # issue 13: leases of this row so far, this one included (a poison row's count grows)


def lease_seconds() -> float:
    """Longer than a slice plus one request, so a live worker never loses its lease."""
    return settings.FORWARD_TIME_SLICE_SECONDS + settings.MOOG_TIMEOUT + settings.FORWARD_LEASE_MARGIN_SECONDS


def chunk_size() -> int:
    """About two seconds of the global rate: small enough that other workers find rows to share.

    In alerts: requests × ``MOOG_BATCH_SIZE``, and no more than two seconds of
    the ``MOOG_EVENTS_PER_SECOND`` cap when one is set.
    """
    per_second = runtime("moog_rate_limit") / runtime("moog_rate_period")  # runtime settings
    batch = settings.MOOG_BATCH_SIZE
    size = max(1, min(settings.FORWARD_CLAIM_SIZE, math.ceil(per_second * 2))) * batch
    if settings.MOOG_EVENTS_PER_SECOND > 0:
        size = min(size, max(batch, math.ceil(settings.MOOG_EVENTS_PER_SECOND * 2)))
    return size


# One CTE per handling of the class: its due rows, oldest first, through the
# alert_outbox_claim index (handling, next_attempt_at, id), an index range
# scan that stops after LIMIT rows however many wait. The handling is written
# into the statement as a constant (psycopg2 binds on the client) so the
# planner picks that index; a handling taken from a join (unnest/LATERAL)
# made it walk next_attempt_at instead: ~1 s per claim at a million rows.
# A class of several handlings locks up to LIMIT rows of each (skipping other
# workers' locks) and leases the oldest LIMIT; the other row locks end with
# the transaction a moment later.
@functools.cache
def _claim_sql(handlings: int) -> str:
    ctes = [
        f"h{i} AS (SELECT id, next_attempt_at FROM alert_outbox"  # nosec B608  # names from range(); values bound
        f" WHERE handling = %(h{i})s AND next_attempt_at <= now()"
        f" ORDER BY next_attempt_at, id LIMIT %(limit)s FOR UPDATE SKIP LOCKED)"
        for i in range(handlings)
    ]
    union = " UNION ALL ".join(f"SELECT id, next_attempt_at FROM h{i}" for i in range(handlings))  # nosec B608  # ditto
    return f"""
WITH {", ".join(ctes)},
due AS (SELECT id, next_attempt_at AS due_at FROM ({union}) u ORDER BY next_attempt_at, id LIMIT %(limit)s)
UPDATE alert_outbox o SET next_attempt_at = now() + make_interval(secs => %(lease)s),
       deliveries = o.deliveries + 1
  FROM due
 WHERE o.id = due.id
RETURNING o.id, o.correlation_id, o.audit_id, o.audit_received_at, o.payload, o.attempts, due.due_at,
          EXTRACT(EPOCH FROM now() - o.created_at), o.deliveries
"""  # nosec B608  # generated CTE names only: every value (handling, limit, lease) is a bound parameter


def outbox_claim(limit: int, classes: tuple[tuple[str, ...], ...] | None = None) -> list[LeasedAlert]:
    """Lease up to ``limit`` due rows, highest priority class first, oldest first within a class.

    One committed transaction; a class is read only when the ones before it
    left room, so a backlog of tickets costs one empty index probe per
    higher class per claim.
    """
    classes = priority_classes() if classes is None else classes
    rows: list[LeasedAlert] = []
    with transaction.atomic(), connection.cursor() as cursor:
        for rank, handlings in enumerate(classes):
            room = limit - len(rows)
            if room <= 0:
                break
            params = {"lease": lease_seconds(), "limit": room} | {f"h{i}": h for i, h in enumerate(handlings)}
            cursor.execute(_claim_sql(len(handlings)), params)
            # Django's psycopg2 backend hands jsonb to raw cursors as text.
            claimed = [
                LeasedAlert(
                    r[0],
                    r[1],
                    r[2],
                    r[3],
                    json.loads(r[4]) if isinstance(r[4], str) else r[4],
                    r[5],
                    due_at=r[6],
                    rank=rank,
                    age=float(r[7]),
                    deliveries=r[8],
                )
                for r in cursor.fetchall()
            ]
            claimed.sort(key=lambda r: (r.due_at, r.id))
            rows.extend(claimed)
    return rows


def outbox_higher_due(rank: int, classes: tuple[tuple[str, ...], ...] | None = None) -> bool:
    """Is a row of a class before ``rank`` due now (one index probe per handling)?"""
    classes = priority_classes() if classes is None else classes
    handlings = [h for handlings in classes[:rank] for h in handlings]
    if not handlings:
        return False
    with connection.cursor() as cursor:
        # The array is written into the statement (client-side binding): an index probe per handling.
        cursor.execute(
            "SELECT EXISTS (SELECT 1 FROM alert_outbox WHERE handling = ANY(%s) AND next_attempt_at <= now())",
            [handlings],
        )
        return bool(cursor.fetchone()[0])


def outbox_release(rows: list[LeasedAlert]) -> None:
    """Give leased rows back without counting an attempt or a delivery: due again at their old time (order kept)."""
    if not rows:
        return
    if any(r.due_at is None for r in rows):
        AlertOutbox.objects.filter(id__in=[r.id for r in rows]).update(
            next_attempt_at=timezone.now(), deliveries=Greatest(F("deliveries") - 1, 0)
        )
        return
    with connection.cursor() as cursor:
        cursor.execute(
            """
            UPDATE alert_outbox o SET next_attempt_at = v.due_at, deliveries = GREATEST(o.deliveries - 1, 0)
              FROM unnest(%s::bigint[], %s::timestamptz[]) AS v(id, due_at)
             WHERE o.id = v.id
            """,
            [[r.id for r in rows], [r.due_at for r in rows]],
        )
