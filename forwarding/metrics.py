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
# --- issue 15: forwarding under an alert storm (docs/forwarding.md) -------------
MOOG_BATCH_EVENTS = Histogram(
    "mutt_moog_batch_events",
    "Alerts carried by one accepted Moogsoft request (1 unless MOOG_BATCH_SIZE > 1).",
    buckets=(1, 2, 5, 10, 25, 50, 100, 250, 500, 1000),
)
OUTBOX_CLASS_DEPTH = Gauge(
    "mutt_forward_outbox_class_depth",
    "Alerts waiting in the outbox per priority class (written by the outbox-stats job).",
    ["priority_class"],
    multiprocess_mode="mostrecent",
)
OUTBOX_CLASS_OLDEST_AGE = Gauge(
    "mutt_forward_outbox_class_oldest_age_seconds",
    "Age of the oldest alert waiting in the outbox per priority class (0 when none waits).",
    ["priority_class"],
    multiprocess_mode="mostrecent",
)
OUTBOX_CLASS_DRAIN_SECONDS = Gauge(
    "mutt_forward_outbox_class_drain_seconds",
    "Expected seconds until this class is drained at the current delivery rate (classes before it go first).",
    ["priority_class"],
    multiprocess_mode="mostrecent",
)
FORWARD_DELIVERY_RATE = Gauge(
    "mutt_forward_delivery_rate",
    "Alerts delivered per second, measured between two outbox-stats runs.",
    multiprocess_mode="mostrecent",
)
