"""Forget alert signatures nobody has seen for ``SIGNATURE_RETENTION_DAYS`` (Beat, hourly).

``alert_signatures`` gains a row per distinct condition forwarded; a row
matters only for folding (within the fold window) and for a later clear. A
clear that arrives after the retention finds nothing open and is audited,
not forwarded (docs/architecture.md, "Alert lifecycle").
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import connection
from django.utils import timezone


def signatures_prune() -> int:
    cutoff = timezone.now() - timedelta(days=settings.SIGNATURE_RETENTION_DAYS)
    with connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM alert_signatures WHERE COALESCE(last_seen_at, opened_at, cleared_at) IS NULL "
            "OR COALESCE(last_seen_at, opened_at) < %s",
            [cutoff],
        )
        return cursor.rowcount
