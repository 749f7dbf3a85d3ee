"""Operator API keys: made here (admin, management command, `make run`), shown once, stored hashed."""

from __future__ import annotations

from alerts.choices import ApiKeyScope
from alerts.models import ApiKey


def api_key_create(*, name: str, scope: str) -> tuple[ApiKey, str]:
    """A new key with one scope; returns the row and the key itself (the only time it is visible)."""
    if scope not in ApiKeyScope.values:
        raise ValueError(f"scope must be one of {', '.join(ApiKeyScope.values)}")
    api_key = ApiKey(name=name, scope=scope)
    api_key.full_clean(exclude=["id", "prefix", "hashed_key"])
    return ApiKey.objects.create_key(name=name, scope=scope)
