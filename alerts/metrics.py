"""Prometheus metrics of classification (exported by the project's /metrics, multiprocess-aware)."""

from prometheus_client import Counter, Histogram

EVENTS_PROCESSED = Counter("mutt_alerter_events_processed_total", "Events classified, by handling", ["handling"])
PROCESSING_LATENCY = Histogram(
    "mutt_alerter_processing_latency_seconds",
    "Time to classify and commit one claim of inbox batches",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
RULE_CACHE_RELOADS = Counter("mutt_alerter_rule_cache_reloads_total", "Compilations of the cached rule set")
UNHANDLED_EVENTS = Counter("mutt_alerter_unhandled_events_total", "Events no rule matched")
META_ALERTS = Counter("mutt_alerter_meta_alerts_total", "Unhandled-flood meta-alerts raised")
DEAD_LETTERS = Counter("mutt_alerter_dead_letters_total", "Classification dead letters, by kind", ["kind"])
REDIS_ERRORS = Counter(
    "mutt_alerter_redis_errors_total",
    "Redis calls of classification that failed (flood counters, statistics)",
    ["operation"],
)
# Wake-ups (alerts.wakeup) that Redis or the broker refused; the sweeper covers each one.
WAKEUPS_NOT_SENT = Counter(
    "mutt_wakeups_not_sent_total", "Wake-ups not sent (Redis or broker unreachable), by stage", ["stage"]
)
