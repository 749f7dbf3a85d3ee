"""Ingest keys: made (shown once), revoked, imported once from INGEST_API_KEYS; every change audited.

Rotation without downtime: make a new key (both are valid), move the senders,
revoke the old one. Every ingest process re-reads the valid keys at least every
``INGEST_KEY_REFRESH_SECONDS`` (``ingest.auth``), so a revoked key is refused
everywhere within that time.
"""

from __future__ import annotations

import secrets
from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.db.models.functions import Now

from alerts.choices import AuditOperation
from alerts.models import IngestKey
from alerts.models.ingest_keys import ingest_key_hash
from alerts.services.config import ConfigChange, config_audit_write


def _public(key: IngestKey) -> dict:
    return {
        "name": key.name,
        "prefix": key.prefix,
        "expires_at": key.expires_at.isoformat() if key.expires_at else None,
        "revoked": key.revoked_at is not None,
        "imported": key.imported,
    }


def _audit(key: IngestKey, operation: str, old: dict | None, changed_by: str, reason: str) -> None:
    config_audit_write(
        change=ConfigChange(user=changed_by, reason=reason),
        operation=operation,
        table_name=IngestKey._meta.db_table,
        record_id=key.pk,
        old_values=old,
        new_values=_public(key),
    )


def ingest_key_create(
    *, name: str, changed_by: str, expires_at: datetime | None = None, reason: str = ""
) -> tuple[IngestKey, str]:
    """A new key; returns the row and the key itself (the only time it is visible)."""
    key = secrets.token_urlsafe(32)
    row = IngestKey(
        name=name, prefix=key[:8], key_hash=ingest_key_hash(key), created_by=changed_by, expires_at=expires_at
    )
    row.full_clean()
    with transaction.atomic():
        row.save()
        _audit(row, AuditOperation.CREATE, None, changed_by, reason)
    return row, key


def ingest_key_revoke(*, key: IngestKey, changed_by: str, reason: str = "") -> IngestKey:
    """Revoke for good, stamped with the database's clock; audited."""
    with transaction.atomic():
        old = _public(key)
        IngestKey.objects.filter(pk=key.pk, revoked_at__isnull=True).update(revoked_at=Now())
        key.refresh_from_db()
        _audit(key, AuditOperation.UPDATE, old, changed_by, reason)
    return key


def ingest_keys_import_environment() -> int:
    """Import the keys in INGEST_API_KEYS not yet known (revoked ones stay revoked); returns how many."""
    imported = 0
    for key in settings.INGEST_API_KEYS:
        digest = ingest_key_hash(key)
        if IngestKey.objects.filter(key_hash=digest).exists():
            continue
        # Not audited: the row itself says where it came from (imported, created_by INGEST_API_KEYS).
        IngestKey.objects.create(
            name=f"environment-{digest[:8]}",
            prefix=key[:4],  # short: an environment key may itself be short
            key_hash=digest,
            created_by="INGEST_API_KEYS",
            imported=True,
        )
        imported += 1
    return imported
