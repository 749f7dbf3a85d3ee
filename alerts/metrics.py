"""Prometheus metrics of classification (exported by the project's /metrics, multiprocess-aware)."""

from prometheus_client import Counter, Gauge, Histogram

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

# ---- issue 11: pipeline gauges (set by ingest's backpressure check and by the
# maintenance heartbeat every 10 s, remediation.heartbeat; defined here so both
# can import them: nothing imports ingest) ----
INGEST_QUEUE_DEPTH = Gauge(
    "mutt_ingest_queue_depth",
    "Unclassified events in the inbox (ingest batches not yet classified)",
    multiprocess_mode="mostrecent",
)
ALERT_QUEUE_DEPTH = Gauge(
    "mutt_alert_queue_depth", "Alerts due for Moogsoft now (outbox rows due)", multiprocess_mode="mostrecent"
)
OLDEST_UNCLASSIFIED_AGE = Gauge(
    "mutt_ingest_oldest_unclassified_age_seconds",
    "Age of the oldest unclassified event (0 when none)",
    multiprocess_mode="mostrecent",
)
MOOG_DLQ_DEPTH = Gauge(
    "mutt_moog_dlq_depth", "Forwarding dead letters waiting for replay (status pending)", multiprocess_mode="mostrecent"
)
PARTITION_NEXT_MONTH = Gauge(
    "mutt_audit_next_month_partition",
    "1 when next month's event_audit_log partition exists, else 0",
    multiprocess_mode="mostrecent",
)
GAUGES_UPDATED = Gauge(
    "mutt_gauges_updated_timestamp_seconds",
    "When the periodic job last updated the pipeline gauges",
    multiprocess_mode="mostrecent",
)
RULE_CACHE_LOAD_SUCCESS = Gauge(
    "mutt_alerter_rule_cache_load_success",
    "1 when this classifier's last rule load succeeded, 0 when it failed",
    multiprocess_mode="min",
)
MESSAGES_PROCESSED = Counter(
    "mutt_alerter_messages_processed_total", "Events classified, by whether a rule matched", ["status"]
)
BACKPRESSURE_WARNINGS = Counter(
    "mutt_alerter_backpressure_warnings_total", "Classify runs that found the backlog at or over the warn threshold"
)
SHED_EVENTS = Counter(
    "mutt_alerter_shed_messages_total", "Events shed to classify dead letters (alerter_shed_mode dlq)"
)
DEFER_EVENTS = Counter("mutt_alerter_defer_events_total", "Classify runs deferred (alerter_shed_mode defer)")
DB_WRITE_LATENCY = Histogram(
    "mutt_alerter_db_write_latency_seconds",
    "Time to write one claim's audit rows, outbox rows and batch states (COPY and move, before commit)",
    buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
)
