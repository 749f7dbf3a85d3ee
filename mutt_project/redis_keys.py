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
