"""Prometheus metrics of remediation (see forwarding.metrics for the multiprocess note)."""

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
