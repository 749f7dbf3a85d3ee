"""Dead letters: replay due ones with backoff (Beat, every five minutes), poison the hopeless.

A classify dead letter goes back into the inbox as a new batch; a forward
dead letter is sent directly, through the shared rate limit and breaker, and
only while Moogsoft looks healthy. After ``MAX_DLQ_RETRIES`` failed replays a
letter is ``poisoned`` and waits for an operator
(``remediation.operator_actions``). docs/architecture.md, "Delivery guarantees".
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

import requests
from django.conf import settings
from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from alerts.choices import DeadLetterStage, DeadLetterStatus, ForwardStatus
from alerts.dynamic_config import runtime
from alerts.inbox import batch_accept
from alerts.models import DeadLetter
from alerts.wakeup import WakeKind, wake_on_commit
from forwarding.circuit_breaker import BreakerState, CircuitBreaker, breaker_status
from forwarding.client import ForwardPermanentError, ForwardTransientError
from forwarding.rate_limiter import slot_wait
from forwarding.services import alert_send, audit_status_update
from remediation.metrics import DLQ_DEPTH, REMEDIATION_REPLAYED, counted_health_check

log = logging.getLogger(__name__)


class ReplayResult(StrEnum):
    REPLAYED = "replayed"
    RETRY = "retry"  # failed again; due again after the backoff
    POISONED = "poisoned"  # failed MAX_DLQ_RETRIES times; stays for an operator
    SKIPPED = "skipped"  # Moogsoft not accepting now (breaker open, no rate slot); nothing counted


def dlq_backoff(attempts: int) -> timedelta:
    """2^n seconds after the n-th failed replay, capped (an hour by default)."""
    return timedelta(seconds=min(2**attempts, settings.DLQ_BACKOFF_MAX_SECONDS))


@counted_health_check  # mutt_remediation_health_checks_total
def moog_healthy() -> bool:
    """Breaker not OPEN and a light GET answered with anything but a 5xx (or no answer).

    With MOOG_HEALTH_CHECK_ENABLED off, the breaker alone decides (no GET).
    """
    if breaker_status()["state"] == BreakerState.OPEN:
        return False
    if not settings.MOOG_HEALTH_CHECK_ENABLED:
        return True
    url = settings.MOOG_HEALTH_URL or settings.MOOG_WEBHOOK_URL
    try:
        response = requests.get(
            url, timeout=settings.MOOG_HEALTH_TIMEOUT, verify=settings.MOOG_CA_BUNDLE or settings.MOOG_VERIFY_TLS
        )
    except requests.RequestException as exc:
        log.info("moogsoft health probe failed (%s)", type(exc).__name__)
        return False
    return response.status_code < 500


class _NotNow(Exception):
    """Moogsoft cannot take a request now; try the dead letter again later."""


def _replay_forward(letter: DeadLetter, breaker: CircuitBreaker) -> tuple[bool, str, int | None]:
    """Send a forward dead letter directly, through the shared rate limit and breaker.

    Returns (delivered, error, status); raises _NotNow when nothing was sent.
    """
    permit = slot_wait(settings.MOOG_TIMEOUT)
    if permit is None:
        raise _NotNow
    if not breaker.acquire().may_send:
        permit.finish(sent=False)
        raise _NotNow
    try:
        alert_send(letter.payload, breaker)
    except ForwardPermanentError as exc:
        return False, f"{exc}: {exc.body_excerpt}", exc.status
    except ForwardTransientError as exc:
        return False, str(exc), exc.status
    finally:
        permit.finish()
    if letter.audit_id:
        audit_status_update([(letter.audit_id, letter.audit_received_at)], ForwardStatus.SENT)
    return True, "", None


def _replay_classify(letter: DeadLetter) -> None:
    """Put the events back into the inbox as a new batch.

    A classify dead letter means its events were never committed to the audit
    log (a batch is classified in one transaction), so nothing is doubled.
    """
    payload = letter.payload
    events = payload["events"] if "events" in payload else [payload["event"]]
    batch_accept(events_json=json.dumps(events), event_count=len(events), received_at=timezone.now())
    wake_on_commit(WakeKind.CLASSIFY)


def dead_letter_replay(
    *, letter: DeadLetter, now: datetime | None = None, breaker: CircuitBreaker | None = None
) -> ReplayResult:
    """Replay one dead letter (locked by the caller) and record the outcome on it."""
    now = now or timezone.now()
    if letter.stage == DeadLetterStage.CLASSIFY:
        _replay_classify(letter)
        delivered, error, status = True, "", None
    else:
        try:
            delivered, error, status = _replay_forward(letter, breaker or CircuitBreaker())
        except _NotNow:
            REMEDIATION_REPLAYED.labels(ReplayResult.SKIPPED).inc()
            return ReplayResult.SKIPPED
    if delivered:
        letter.status = DeadLetterStatus.REPLAYED
        letter.next_attempt_at = None
        result = ReplayResult.REPLAYED
    else:
        letter.attempts += 1
        letter.last_error = error[:2000]
        letter.response_status = status or letter.response_status
        if letter.attempts >= runtime("max_dlq_retries"):
            letter.status = DeadLetterStatus.POISONED
            letter.next_attempt_at = None
            result = ReplayResult.POISONED
            log.error("dead letter %s poisoned after %d replays: %s", letter.pk, letter.attempts, error[:200])
        else:
            letter.status = DeadLetterStatus.PENDING
            letter.next_attempt_at = now + dlq_backoff(letter.attempts)
            result = ReplayResult.RETRY
    letter.save(update_fields=["status", "attempts", "last_error", "response_status", "next_attempt_at", "updated_at"])
    REMEDIATION_REPLAYED.labels(result).inc()
    return result


@dataclass
class ReplayRun:
    results: dict = field(default_factory=dict)
    skipped_unhealthy: bool = False
    would_replay: list = field(default_factory=list)  # ids (dry run)


def dead_letters_replay_due(
    *, now: datetime | None = None, stage: str | None = None, dry_run: bool = False, limit: int | None = None
) -> ReplayRun:
    """Replay pending dead letters whose next attempt is due; forward ones only while Moogsoft is healthy."""
    now = now or timezone.now()
    limit = limit or settings.DLQ_BATCH_SIZE
    run = ReplayRun()
    due = DeadLetter.objects.filter(status=DeadLetterStatus.PENDING, next_attempt_at__lte=now)
    if stage:
        due = due.filter(stage=stage)
    if dry_run:
        run.would_replay = list(due.order_by("next_attempt_at", "id").values_list("id", flat=True)[:limit])
        return run
    if due.filter(stage=DeadLetterStage.FORWARD).exists() and not moog_healthy():
        run.skipped_unhealthy = True
        due = due.filter(stage=DeadLetterStage.CLASSIFY)
    breaker = CircuitBreaker()
    for letter_id in due.order_by("next_attempt_at", "id").values_list("id", flat=True)[:limit]:
        # One row lock per replay: a concurrent run or an admin action skips it.
        with transaction.atomic():
            letter = (
                DeadLetter.objects.select_for_update(skip_locked=True)
                .filter(pk=letter_id, status=DeadLetterStatus.PENDING)
                .first()
            )
            if letter is None:
                continue
            result = dead_letter_replay(letter=letter, now=now, breaker=breaker)
        run.results[result] = run.results.get(result, 0) + 1
        if result == ReplayResult.SKIPPED:
            break  # Moogsoft is not taking requests: the rest waits for the next run
    dlq_depth_export()
    return run


def dlq_depth_export() -> None:
    for row in DeadLetter.objects.values("stage", "status").annotate(n=Count("id")):
        DLQ_DEPTH.labels(row["stage"], row["status"]).set(row["n"])
