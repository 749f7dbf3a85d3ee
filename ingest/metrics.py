"""Prometheus metrics of the front door.

In ``make run`` every process writes to PROMETHEUS_MULTIPROC_DIR and
``/metrics`` aggregates them, so the gauge says how to combine processes.
"""

from prometheus_client import Counter, Histogram

from alerts.metrics import INGEST_QUEUE_DEPTH

REQUESTS = Counter(
    "mutt_ingest_requests_total",
    "Ingest requests by outcome (status: success, fail_auth, fail_json, fail_queue_full, fail_storage) "
    "and reason (accepted, unauthorized, malformed, too_large, backlog_full, storage_unavailable, ...)",
    ["status", "reason"],
)


def request_status(http_status: int, reason: str) -> str:
    """The reference's ``status`` label for a refused request (``fail_storage`` is its ``fail_redis``:
    MUTT stores accepted events in PostgreSQL)."""
    if http_status == 401:
        return "fail_auth"
    if reason == "backlog_full":
        return "fail_queue_full"
    if http_status >= 500:
        return "fail_storage"
    return "fail_json"


EVENTS = Counter("mutt_ingest_events_total", "Events seen by ingest, accepted or rejected", ["result"])
QUEUE_DEPTH = INGEST_QUEUE_DEPTH  # also set by the periodic gauge job (remediation.heartbeat)
LATENCY = Histogram(
    "mutt_ingest_latency_seconds",
    "Time from reading the request to the answer",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
)

# The hot path's label sets, resolved once (``labels()`` costs a lookup per call).
REQUESTS_ACCEPTED = REQUESTS.labels("success", "accepted")
EVENTS_ACCEPTED = EVENTS.labels("accepted")
EVENTS_REJECTED = EVENTS.labels("rejected")
