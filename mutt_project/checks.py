"""MUTT's own deployment checks (``manage.py check --deploy``): settings a production site must not miss."""

from __future__ import annotations

from django.conf import settings
from django.core.checks import Tags, Warning, register


@register(Tags.security, deploy=True)
def metrics_token_set(app_configs, **kwargs):
    if settings.METRICS_TOKEN:
        return []
    return [
        Warning(
            "METRICS_TOKEN is not set: /metrics answers anyone on the web and ingest ports.",
            hint="Set METRICS_TOKEN (32+ random characters) and give Prometheus the same token (docs/security.md).",
            id="mutt.W001",
        )
    ]
