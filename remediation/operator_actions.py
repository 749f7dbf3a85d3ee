"""Operator actions on dead letters and the outbox (the admin's buttons), each one audited.

Every action writes its audit row through ``alerts.services.config_audit_write``
in the same transaction as the change, naming the operator and the action.
"""

from __future__ import annotations

from django.db import transaction
from django.db.models import Model
from django.utils import timezone

from alerts.choices import AuditOperation, DeadLetterStatus, ForwardStatus
from alerts.models import AlertOutbox, DeadLetter
from alerts.services import ConfigChange, config_audit_write
from alerts.wakeup import WakeKind, wake_on_commit
from forwarding.circuit_breaker import CircuitBreaker, breaker_force_closed, breaker_status
from forwarding.services import audit_status_update
from remediation.dead_letters import dead_letter_replay


def _audit(user: object, record: Model, old: dict, new: dict, reason: str) -> None:
    """One audit row for an action on ``record`` (a dead letter or an outbox row)."""
    change = ConfigChange(user=getattr(user, "username", str(user)), reason=reason)
    if getattr(record, "correlation_id", None):
        change = ConfigChange(user=change.user, reason=reason, correlation_id=record.correlation_id)
    config_audit_write(
        change=change,
        operation=AuditOperation.UPDATE,
        table_name=record._meta.db_table,
        record_id=record.pk,
        old_values=old,
        new_values=new,
    )


def dead_letters_replay_now(*, ids: list[int], user: object) -> dict:
    """Operator's "replay now": replay the chosen letters at once (any backoff or poison ignored)."""
    results: dict = {}
    breaker = CircuitBreaker()
    for letter_id in ids:
        with transaction.atomic():
            letter = (
                DeadLetter.objects.select_for_update(skip_locked=True)
                .filter(pk=letter_id)
                .exclude(status__in=[DeadLetterStatus.REPLAYED, DeadLetterStatus.DISCARDED])
                .first()
            )
            if letter is None:
                continue
            old = {"status": letter.status, "attempts": letter.attempts}
            result = dead_letter_replay(letter=letter, breaker=breaker)
            _audit(
                user,
                letter,
                old,
                {"status": letter.status, "attempts": letter.attempts, "result": result},
                "admin action: replay now",
            )
        results[result] = results.get(result, 0) + 1
    return results


def dead_letters_discard(*, ids: list[int], user: object) -> int:
    """Operator's "discard": the letters stay for the record but are never replayed."""
    count = 0
    with transaction.atomic():
        for letter in (
            DeadLetter.objects.select_for_update().filter(pk__in=ids).exclude(status=DeadLetterStatus.DISCARDED)
        ):
            old = {"status": letter.status}
            letter.status = DeadLetterStatus.DISCARDED
            letter.next_attempt_at = None
            letter.save(update_fields=["status", "next_attempt_at", "updated_at"])
            _audit(user, letter, old, {"status": letter.status}, "admin action: discard")
            count += 1
    return count


def outbox_send_now(*, ids: list[int], user: object) -> int:
    """Operator's "replay now" on the outbox: due at once, forwarders woken on commit."""
    with transaction.atomic():
        rows = list(AlertOutbox.objects.select_for_update().filter(pk__in=ids))
        for row in rows:
            _audit(
                user,
                row,
                {"next_attempt_at": row.next_attempt_at.isoformat()},
                {"next_attempt_at": "now"},
                "admin action: replay now",
            )
        AlertOutbox.objects.filter(pk__in=[r.pk for r in rows]).update(next_attempt_at=timezone.now())
        wake_on_commit(WakeKind.FORWARD)
    return len(rows)


def outbox_discard(*, ids: list[int], user: object) -> int:
    """Operator's "discard" on the outbox: the alert is never sent; its audit row says ``dead``."""
    with transaction.atomic():
        rows = list(AlertOutbox.objects.select_for_update().filter(pk__in=ids))
        for row in rows:
            _audit(user, row, {"payload": row.payload}, {}, "admin action: discard")
        audit_status_update([(r.audit_id, r.audit_received_at) for r in rows if r.audit_id], ForwardStatus.DEAD)
        AlertOutbox.objects.filter(pk__in=[r.pk for r in rows]).delete()
    return len(rows)


BREAKER_AUDIT_TABLE = "moog_circuit_breaker"  # no table: the breaker lives in Redis; the audit names it


def moog_breaker_reset(*, user: object, reason: str = "") -> dict:
    """Operator's "reset the Moogsoft breaker": closed with no failures, so the next alert is sent at once.

    Use it once Moogsoft is known to be back, instead of waiting for the half-open
    probe. Audited (who, why, the state before) in the same transaction as nothing
    else: the Redis reset happens only once the audit row is written.
    """
    change = ConfigChange(user=getattr(user, "username", str(user)), reason=reason or "operator: breaker reset")
    with transaction.atomic():
        before = breaker_status()
        after = {"state": "closed", "failures": 0, "opened_at": None}
        config_audit_write(
            change=change,
            operation=AuditOperation.UPDATE,
            table_name=BREAKER_AUDIT_TABLE,
            record_id=None,
            old_values=before,
            new_values=after,
        )
        breaker_force_closed()
        wake_on_commit(WakeKind.FORWARD)  # what waited for the breaker goes now
    return {"before": before, "after": breaker_status()}
