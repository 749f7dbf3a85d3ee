"""Draining the alert outbox to Moogsoft."""

from __future__ import annotations

import logging
import random
import time
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from alerts.choices import DeadLetterStage, ForwardStatus
from alerts.models import AlertOutbox, DeadLetter
from alerts.wakeup import WakeKind, wake, wake_clear
from forwarding.client import ForwardPermanentError, ForwardTransientError, moog_post
from forwarding.payload import moog_payload

log = logging.getLogger(__name__)


@dataclass
class ForwardResult:
    sent: int = 0
    retried: int = 0
    dead: int = 0
    more: bool = False
    sent_keys: list = field(default_factory=list)


def retry_delay(attempts: int, retry_after: float | None = None) -> float:
    """Exponential backoff with full jitter, capped; Retry-After wins when longer."""
    base = settings.MOOG_RETRY_BASE_DELAY * (2 ** max(0, attempts - 1))
    delay = random.uniform(base / 2, base) if base > 0 else 0.0
    delay = min(delay, settings.MOOG_RETRY_MAX_DELAY)
    if retry_after is not None:
        delay = max(delay, min(retry_after, settings.MOOG_RETRY_MAX_DELAY))
    return delay


def _audit_status_update(keys: list[tuple], status: str) -> None:
    """Write the forwarding outcome back to the audit rows, one statement per batch."""
    if not keys:
        return
    ids = [k[0] for k in keys]
    received = [k[1] for k in keys]
    with connection.cursor() as cursor:
        cursor.execute(
            """
            UPDATE event_audit_log a SET forward_status = %s,
                   forwarded_at = CASE WHEN %s = 'sent' THEN now() ELSE a.forwarded_at END
              FROM unnest(%s::bigint[], %s::timestamptz[]) AS k(id, received_at)
             WHERE a.id = k.id AND a.received_at = k.received_at
            """,
            [status, status, ids, received],
        )


def outbox_forward_one(row: AlertOutbox, result: ForwardResult) -> None:
    """Send one claimed outbox row and record the outcome (inside the claim's transaction)."""
    payload = moog_payload(row.payload, settings.MOOG_SEVERITY_MAP, settings.MOOG_DEFAULT_SEVERITY)
    try:
        moog_post(payload)
    except ForwardPermanentError as exc:
        DeadLetter.objects.create(
            stage=DeadLetterStage.FORWARD,
            correlation_id=row.correlation_id,
            audit_id=row.audit_id,
            audit_received_at=row.audit_received_at,
            payload=row.payload,
            last_error=f"{exc}: {exc.body_excerpt}"[:2000],
            response_status=exc.status,
            attempts=row.attempts + 1,
            next_attempt_at=timezone.now() + timedelta(seconds=1),
        )
        _audit_status_update([(row.audit_id, row.audit_received_at)] if row.audit_id else [], ForwardStatus.DEAD)
        row.delete()
        result.dead += 1
        return
    except ForwardTransientError as exc:
        row.attempts += 1
        row.last_error = str(exc)[:2000]
        if row.attempts > settings.MOOG_MAX_RETRIES:
            DeadLetter.objects.create(
                stage=DeadLetterStage.FORWARD,
                correlation_id=row.correlation_id,
                audit_id=row.audit_id,
                audit_received_at=row.audit_received_at,
                payload=row.payload,
                last_error=row.last_error,
                response_status=exc.status,
                attempts=row.attempts,
                next_attempt_at=timezone.now() + timedelta(seconds=1),
            )
            _audit_status_update([(row.audit_id, row.audit_received_at)] if row.audit_id else [], ForwardStatus.DEAD)
            row.delete()
            result.dead += 1
        else:
            row.next_attempt_at = timezone.now() + timedelta(seconds=retry_delay(row.attempts, exc.retry_after))
            row.save(update_fields=["attempts", "last_error", "next_attempt_at"])
            result.retried += 1
        return
    if row.audit_id:
        result.sent_keys.append((row.audit_id, row.audit_received_at))
    row.delete()
    result.sent += 1


def outbox_forward(time_slice: float | None = None) -> ForwardResult:
    """Claim due outbox rows and send them until none is due or the slice is used."""
    slice_seconds = settings.FORWARD_TIME_SLICE_SECONDS if time_slice is None else time_slice
    deadline = time.monotonic() + slice_seconds
    result = ForwardResult()
    wake_clear(WakeKind.FORWARD)
    while time.monotonic() < deadline:
        with transaction.atomic():
            rows = list(
                AlertOutbox.objects.select_for_update(skip_locked=True)
                .filter(next_attempt_at__lte=timezone.now())
                .order_by("next_attempt_at", "id")[: settings.FORWARD_CLAIM_SIZE]
            )
            if not rows:
                break
            for row in rows:
                outbox_forward_one(row, result)
            _audit_status_update(result.sent_keys, ForwardStatus.SENT)
            result.sent_keys.clear()
    else:
        result.more = True
        wake(WakeKind.FORWARD)
    return result
