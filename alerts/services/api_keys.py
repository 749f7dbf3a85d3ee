"""Operator API keys: made here (admin, management command, `make run`, the API), shown once, stored hashed.

Creating and revoking a key through the API is audited in ``config_audit_log``
(table ``api_keys``; the record is named by the key's public prefix).
"""

from __future__ import annotations

from datetime import datetime

from django.db import transaction

from alerts.choices import ApiKeyScope, AuditOperation
from alerts.models import ApiKey
from alerts.services.config import ConfigChange, config_audit_write


def _public(api_key: ApiKey) -> dict:
    expiry = api_key.expiry_date.isoformat() if api_key.expiry_date else None
    return {
        "prefix": api_key.prefix,
        "name": api_key.name,
        "scope": api_key.scope,
        "rate_limit": api_key.rate_limit,
        "expiry_date": expiry,
        "revoked": api_key.revoked,
    }


def api_key_create(
    *,
    name: str,
    scope: str,
    rate_limit: str = "",
    expiry_date: datetime | None = None,
    changed_by: str | None = None,
    reason: str = "",
) -> tuple[ApiKey, str]:
    """A new key with one scope (optionally its own rate and an expiry); returns the row and the key itself
    (the only time it is visible)."""
    if scope not in ApiKeyScope.values:
        raise ValueError(f"scope must be one of {', '.join(ApiKeyScope.values)}")
    fields = {"name": name, "scope": scope, "rate_limit": rate_limit, "expiry_date": expiry_date}
    ApiKey(**fields).full_clean(exclude=["id", "prefix", "hashed_key"])
    with transaction.atomic():
        api_key, key = ApiKey.objects.create_key(**fields)
        if changed_by is not None:
            config_audit_write(
                change=ConfigChange(user=changed_by, reason=reason),
                operation=AuditOperation.CREATE,
                table_name=ApiKey._meta.db_table,
                record_id=None,
                old_values=None,
                new_values=_public(api_key),
            )
    return api_key, key


def api_key_revoke(*, api_key: ApiKey, changed_by: str, reason: str = "") -> ApiKey:
    """Revoke for good (the library refuses to un-revoke); audited."""
    with transaction.atomic():
        old = _public(api_key)
        api_key.revoked = True
        api_key.save(update_fields=["revoked"])
        config_audit_write(
            change=ConfigChange(user=changed_by, reason=reason),
            operation=AuditOperation.DELETE,
            table_name=ApiKey._meta.db_table,
            record_id=None,
            old_values=old,
            new_values=_public(api_key),
        )
    return api_key
