"""Request rate per API key (or user, or address) → 429 with ``Retry-After``.

Counted in Django's default cache, i.e. per web process: a guard against a
runaway script, not an exact global quota.
"""

from __future__ import annotations

from django.conf import settings
from rest_framework.throttling import SimpleRateThrottle


class ApiClientRateThrottle(SimpleRateThrottle):
    scope = "api"

    def get_rate(self):
        return settings.API_THROTTLE_RATE  # read per request so tests and operators can change it

    def get_cache_key(self, request, view):
        user = request.user
        prefix = getattr(user, "key_prefix", None)
        if prefix:
            ident = f"key:{prefix}"
        elif user and user.is_authenticated:
            ident = f"user:{user.pk}"
        else:
            ident = f"addr:{self.get_ident(request)}"
        return self.cache_format % {"scope": self.scope, "ident": ident}
