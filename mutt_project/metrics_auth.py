"""``/metrics`` behind a bearer token (``METRICS_TOKEN``) on the web and the ingest port.

With a token set, a scrape must send ``Authorization: Bearer <token>``; anything
else is a 401. Without one (development), ``/metrics`` stays open. The token
comes from Vault or the environment like every secret (``mutt_project.secrets``).
"""

from __future__ import annotations

import hmac

from django.conf import settings
from django.http import HttpResponse
from django.views.decorators.cache import never_cache
from django_prometheus.exports import ExportToDjangoView


def metrics_token_valid(authorization: str, token: str) -> bool:
    """True when no token is configured, or the header carries exactly this bearer token (pure)."""
    if not token:
        return True
    scheme, _, presented = authorization.partition(" ")
    if scheme.lower() != "bearer":
        return False
    return hmac.compare_digest(presented.strip().encode(), token.encode())


@never_cache
def metrics(request):
    if not metrics_token_valid(request.headers.get("Authorization", ""), settings.METRICS_TOKEN):
        return HttpResponse(
            "metrics need Authorization: Bearer <METRICS_TOKEN>\n",
            status=401,
            content_type="text/plain",
            headers={"WWW-Authenticate": 'Bearer realm="metrics"'},
        )
    return ExportToDjangoView(request)
