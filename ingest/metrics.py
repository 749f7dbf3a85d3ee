"""Prometheus metrics of the front door.

In ``make run`` every process writes to PROMETHEUS_MULTIPROC_DIR and
``/metrics`` aggregates them, so the gauge says how to combine processes.
"""

from prometheus_client import Counter, Gauge, Histogram

REQUESTS = Counter(
    "mutt_ingest_requests_total",
    "Ingest requests by HTTP status and reason (accepted, unauthorized, backlog_full, ...)",
    ["status", "reason"],
)
EVENTS = Counter("mutt_ingest_events_total", "Events seen by ingest, accepted or rejected", ["result"])
QUEUE_DEPTH = Gauge(
    "mutt_ingest_queue_depth",
    "Unclassified events in the inbox, as last read by the backpressure check",
    multiprocess_mode="max",
)
LATENCY = Histogram(
    "mutt_ingest_latency_seconds",
    "Time from reading the request to the answer",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
)

# The hot path's label sets, resolved once (``labels()`` costs a lookup per call).
REQUESTS_ACCEPTED = REQUESTS.labels("202", "accepted")
EVENTS_ACCEPTED = EVENTS.labels("accepted")
EVENTS_REJECTED = EVENTS.labels("rejected")
