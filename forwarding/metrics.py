"""Prometheus metrics of forwarding.

Workers run in many processes; ``scripts/run.sh`` sets PROMETHEUS_MULTIPROC_DIR
so the web process's /metrics aggregates them. Gauges use ``mostrecent`` so the
last value written by any process wins (they describe shared state: the
breaker in Redis, the outbox in PostgreSQL), not a per-process value.
"""

from prometheus_client import Counter, Gauge, Histogram

MOOG_REQUESTS = Counter(
    "mutt_moog_requests",
    "Requests sent to Moogsoft by outcome (status: success, fail = permanent, retry = transient) "
    "and code (HTTP status, or 'timeout' / 'error').",
    ["status", "code"],
)
MOOG_RETRY_COUNT = Counter(
    "mutt_moog_retry_count", "Moogsoft requests that failed transiently (the alert is retried, or dead-lettered)."
)
MOOG_CIRCUIT_TRANSITIONS = Counter(
    "mutt_moog_circuit_transitions", "Circuit breaker state changes, by the state entered.", ["to"]
)
MOOG_CIRCUIT_OPENS = Counter("mutt_moog_circuit_opens", "Times the Moogsoft circuit breaker opened.")
MOOG_FORWARD_LATENCY = Histogram(
    "mutt_moog_forward_latency_seconds",
    "Duration of one Moogsoft webhook request.",
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
MOOG_RATE_LIMIT_HITS = Counter(
    "mutt_moog_rate_limit_hits", "Sends that had to wait for a slot of the shared Moogsoft rate limit."
)
MOOG_CIRCUIT_STATE = Gauge(
    "mutt_moog_circuit_state",
    "Moogsoft circuit breaker: 0 closed, 1 open, 2 half-open.",
    multiprocess_mode="mostrecent",
)
FORWARD_OUTBOX_DEPTH = Gauge(
    "mutt_forward_outbox_depth",
    "Alerts waiting in the outbox (written at the end of each forward slice).",
    multiprocess_mode="mostrecent",
)
