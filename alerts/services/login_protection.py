"""Login lockouts (django-axes): each lockout and each unlock written to the config audit log.

Failures are counted per username and client address
(``LOGIN_FAILURE_LIMIT`` in ``LOGIN_COOLOFF_MINUTES``); the address is the one
``mutt_project.client_ip`` trusts. An operator unlocks from the admin
(``Access attempts`` ▸ "Unlock"), which goes through ``login_unlock`` here.
"""

from __future__ import annotations

from axes.models import AccessAttempt
from django.conf import settings
from django.db import transaction

from alerts.choices import AuditOperation
from alerts.services.config import ConfigChange, config_audit_write

LOCKOUT_ACTOR = "login-protection"


def login_lockout_audit(*, username: str | None, ip_address: str | None) -> None:
    """One audit row per lockout (called from axes' ``user_locked_out`` signal)."""
    config_audit_write(
        change=ConfigChange(
            user=LOCKOUT_ACTOR,
            reason=f"{settings.LOGIN_FAILURE_LIMIT} failed logins within {settings.LOGIN_COOLOFF_MINUTES} min",
        ),
        operation=AuditOperation.UPDATE,
        table_name=AccessAttempt._meta.db_table,
        record_id=None,
        old_values=None,
        new_values={"username": username, "ip_address": ip_address, "locked_out": True},
    )


def login_unlock(*, attempts, changed_by: str, reason: str = "") -> int:
    """Forget the failures of these access attempts (the user may log in again); audited. Returns how many."""
    unlocked = 0
    with transaction.atomic():
        for attempt in attempts:
            old = {"username": attempt.username, "ip_address": attempt.ip_address, "locked_out": True}
            record_id = attempt.pk
            attempt.delete()
            unlocked += 1
            config_audit_write(
                change=ConfigChange(user=changed_by, reason=reason or "unlocked in the admin"),
                operation=AuditOperation.DELETE,
                table_name=AccessAttempt._meta.db_table,
                record_id=record_id,
                old_values=old,
                new_values={**old, "locked_out": False},
            )
    return unlocked
