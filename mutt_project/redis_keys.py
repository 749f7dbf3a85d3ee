"""Every Redis key MUTT uses, in one place.

Redis is transport and coordination only: losing any of these keys costs
latency or a statistic, never an accepted event (PostgreSQL holds the work).
"""

PREFIX = "mutt"

# Wake-up flags: used by alerts.wakeup only (the protocol is described there
# and in docs/architecture.md, "Wake-ups"). "later": a delayed wake-up
# (countdown) is on its way, so one message, not one per worker.
WAKE_CLASSIFY = f"{PREFIX}:wake:classify"
WAKE_CLASSIFY_LATER = f"{PREFIX}:wake:classify:later"
WAKE_FORWARD = f"{PREFIX}:wake:forward"
WAKE_FORWARD_LATER = f"{PREFIX}:wake:forward:later"

# Bumped on every change to rules, development hosts or device teams.
RULES_VERSION = f"{PREFIX}:rules:version"

# Ingest events-per-second counters: one key per second bucket.
INGEST_EPS_SECOND = f"{PREFIX}:ingest:eps:s:"  # + epoch second
INGEST_EPS_MINUTE = f"{PREFIX}:ingest:eps:m:"  # + epoch minute
INGEST_EPS_HOUR = f"{PREFIX}:ingest:eps:h:"  # + epoch hour
INGEST_TOTAL = f"{PREFIX}:ingest:total"

# Unhandled-flood detection: counter per host and window, and the "already
# alerted" marker for that window.
UNHANDLED_COUNT = f"{PREFIX}:unhandled:count:"  # + host
UNHANDLED_ALERTED = f"{PREFIX}:unhandled:alerted:"  # + host

# Rule statistics.
RULE_HITS = f"{PREFIX}:rules:hits"  # hash rule_id -> count
RULE_LAST_MATCH = f"{PREFIX}:rules:last_match"  # hash rule_id -> epoch seconds

# Moogsoft circuit breaker and shared rate limiter.
CB_STATE = f"{PREFIX}:moog:cb:state"
CB_FAILURES = f"{PREFIX}:moog:cb:failures"
CB_OPENED_AT = f"{PREFIX}:moog:cb:opened_at"
CB_PROBE_LOCK = f"{PREFIX}:moog:cb:probe"
RATE_LIMIT = f"{PREFIX}:moog:rate"
RATE_LIMIT_SENT = f"{PREFIX}:moog:rate:sent"  # sorted set: send times within the last window

# Beat singleton locks (a second Beat started by mistake does no double work).
BEAT_LOCK = f"{PREFIX}:beat:lock:"  # + task name

# ---- issue 11: runtime settings -------------------------------------------
# Bumped (INCR) after every committed change of a runtime setting; each process
# compares it about once a second and re-reads PostgreSQL when it moved.
RUNTIME_SETTINGS_VERSION = f"{PREFIX}:config:version"
# The dashboard's and /api/v2/metrics' status snapshot, cached a few seconds.
STATUS_CACHE = f"{PREFIX}:status:cached"
# Worker queue health: per-queue heartbeat written by a tiny task run on that queue.
QUEUE_HEARTBEAT = f"{PREFIX}:heartbeat:queue:"  # + queue name
# Pipeline statistics for the dashboard (alerts.pipeline_stats): per-hour bucket counters.
STATS_CLASSIFIED_HOUR = f"{PREFIX}:stats:classified:h:"  # + epoch hour
STATS_FORWARDED_HOUR = f"{PREFIX}:stats:forwarded:h:"  # + epoch hour
STATS_UNMATCHED_HOSTS = f"{PREFIX}:stats:unmatched:h:"  # + epoch hour; sorted set host -> count
MOOG_LAST_ERROR = f"{PREFIX}:moog:last_error"  # JSON {at, error} of the last failed request
STATS_CLASSIFIED_TOTAL = f"{PREFIX}:stats:classified:total"
STATS_FORWARDED_TOTAL = f"{PREFIX}:stats:forwarded:total"
STATS_INGEST_ACCEPTED_HOUR = f"{PREFIX}:stats:ingest:accepted:h:"  # + epoch hour; accepted requests
STATS_INGEST_5XX_HOUR = f"{PREFIX}:stats:ingest:5xx:h:"  # + epoch hour; requests answered 5xx
STATS_FORWARDED_RECENT = f"{PREFIX}:stats:forwarded:recent"  # list of the last forwarded alerts (JSON)
# --- issue 15: forwarding under an alert storm ---------------------------------
# Next free event slot of the optional MOOG_EVENTS_PER_SECOND cap (µs, Redis clock).
RATE_LIMIT_EVENTS = f"{PREFIX}:moog:rate:events"
# Alerts delivered so far (INCRBY per flush) and the outbox-stats job's last sample of it.
FORWARD_DELIVERED = f"{PREFIX}:forward:delivered"
FORWARD_DELIVERED_SAMPLE = f"{PREFIX}:forward:delivered:sample"  # "count:epoch seconds"
FORWARD_DELIVERY_RATE = f"{PREFIX}:forward:delivery_rate"  # alerts/s at the last outbox-stats run (expires)
# The outbox-stats job's per-class snapshot (JSON list) for the dashboard and /api/v2/metrics (expires).
OUTBOX_CLASS_STATS = f"{PREFIX}:forward:outbox_class_stats"

# ---- upgrade from v2.3: the lists v2.3 kept its queued events in (drained once by import_v23) ----
V23_INGEST_QUEUE = "mutt:ingest_queue"
V23_ALERT_QUEUE = "mutt:alert_queue"
V23_DLQ_LISTS = ("mutt:dlq:alerter", "mutt:dlq:moog", "mutt:moog_dead_letter_queue")
# Per-pod processing lists (BRPOPLPUSH targets), found with SCAN.
V23_PROCESSING_PATTERNS = ("alerter_processing:*", "moog_processing:*", "mutt:processing:*", "processing:*")
