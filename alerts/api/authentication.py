"""API-key authentication: ``X-API-Key: KEY`` or ``Authorization: Bearer KEY``.

Keys are looked up by their public prefix and verified against the stored
hash in constant time (djangorestframework-api-key); the key itself is never
stored or logged. A valid key authenticates as an ``ApiKeyPrincipal`` whose
``username`` is the key's name (what the audit trail records).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from django.utils import timezone
from rest_framework import authentication, exceptions

from alerts.models import ApiKey


@dataclass(frozen=True)
class ApiKeyPrincipal:
    """The caller behind an API key, shaped enough like a user for DRF, the audit trail and the services."""

    name: str
    scope: str
    key_prefix: str
    is_authenticated: bool = True
    is_anonymous: bool = False
    is_active: bool = True
    is_staff: bool = False
    is_superuser: bool = False

    @property
    def username(self) -> str:
        return self.name

    def get_username(self) -> str:
        return self.name

    def __str__(self) -> str:
        return self.name


LAST_USED_EVERY_SECONDS = 60.0  # per process: one UPDATE a minute per key at most, never one per request
_last_used_written: dict[str, float] = {}


def _last_used_touch(pk: str) -> None:
    now = time.monotonic()
    if now - _last_used_written.get(pk, -LAST_USED_EVERY_SECONDS) < LAST_USED_EVERY_SECONDS:
        return
    _last_used_written[pk] = now
    ApiKey.objects.filter(pk=pk).update(last_used_at=timezone.now())


def presented_key(request) -> str | None:
    key = request.META.get("HTTP_X_API_KEY")
    if key:
        return key.strip()
    auth = authentication.get_authorization_header(request).split()
    if len(auth) == 2 and auth[0].lower() == b"bearer":
        return auth[1].decode("latin-1")
    return None


class ApiKeyAuthentication(authentication.BaseAuthentication):
    """Authenticates a request carrying an operator API key; no key means "try the next scheme"."""

    def authenticate(self, request):
        key = presented_key(request)
        if not key:
            return None
        try:
            api_key = ApiKey.objects.get_from_key(key)
        except ApiKey.DoesNotExist:
            raise exceptions.AuthenticationFailed("Invalid API key.") from None
        if api_key.has_expired:
            raise exceptions.AuthenticationFailed("API key expired.")
        _last_used_touch(api_key.pk)
        return ApiKeyPrincipal(name=api_key.name, scope=api_key.scope, key_prefix=api_key.prefix), api_key

    def authenticate_header(self, request) -> str:
        return 'Bearer realm="mutt", X-API-Key'
