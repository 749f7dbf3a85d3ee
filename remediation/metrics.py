"""Prometheus metrics of remediation (see forwarding.metrics for the multiprocess note)."""

import functools

from prometheus_client import Counter, Gauge

DLQ_DEPTH = Gauge(
    "mutt_dlq_depth",
    "Dead letters by stage and status (written by each replay run).",
    ["stage", "status"],
    multiprocess_mode="mostrecent",
)
REMEDIATION_REPLAYED = Counter(
    "mutt_remediation_replayed", "Dead-letter replays by result (replayed, retry, poisoned, skipped).", ["result"]
)

# ---- issue 11: the Moogsoft health gate of dead-letter replay ----
HEALTH_CHECKS = Counter(
    "mutt_remediation_health_checks", "Moogsoft health checks before dead-letter replay, by result.", ["result"]
)


def counted_health_check(check):
    """Count each call of a health check returning a bool as ``healthy`` / ``unhealthy``."""

    @functools.wraps(check)
    def wrapper(*args, **kwargs):
        healthy = check(*args, **kwargs)
        HEALTH_CHECKS.labels("healthy" if healthy else "unhealthy").inc()
        return healthy

    return wrapper
