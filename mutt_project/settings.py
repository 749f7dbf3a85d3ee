"""MUTT settings: everything from the environment, safe local defaults.

Sections are marked with banners. Values are read once, at start-up.
"""

from __future__ import annotations

from datetime import timedelta as _timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from mutt_project.database_url import database_settings
from mutt_project.env import (
    aliases_set,
    env_bool,
    env_float,
    env_int,
    env_list,
    env_str,
)
from mutt_project.metrics_dir import metrics_dir_ensure
from mutt_project.queues import TASK_ROUTES, Queue
from mutt_project.secrets import secret, secret_list
from mutt_project.version import VERSION

BASE_DIR = Path(__file__).resolve().parent.parent
# Before any metric exists: the multiprocess metrics directory, created or refused by name.
PROMETHEUS_MULTIPROC_DIR = metrics_dir_ensure()

# The reference documents' names (REDIS_HOST, POSTGRES_*, MOOG_RATE_LIMIT_PER_SEC, ...)
# give our variables' values when ours are not set; each use is warned about at
# start-up (alerts.apps). Table: docs/settings.md.
import os  # noqa: E402

from mutt_project.env_aliases import aliases_derive  # noqa: E402

_aliased, ENV_ALIAS_WARNINGS = aliases_derive(os.environ)
aliases_set(_aliased)

# =============================================================================
# Core
# =============================================================================
MUTT_ENV = env_str("MUTT_ENV", "development")
PRODUCTION = MUTT_ENV == "production"
_DEFAULT_SECRET_KEY = "mutt-insecure-development-key-change-me"
SECRET_KEY = secret("DJANGO_SECRET_KEY", _DEFAULT_SECRET_KEY)
DEBUG = env_bool("DJANGO_DEBUG", not PRODUCTION)
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]", "testserver"])
SERVICE_NAME = env_str("MUTT_SERVICE_NAME", "web")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_prometheus",
    "rest_framework",
    "drf_spectacular",
    "django_celery_beat",
    "alerts",
    "ingest",
    "forwarding",
    "remediation",
]

MIDDLEWARE = [
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "mutt_project.probe_paths.ProbePathsMiddleware",  # probes by pod IP: no host check
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",  # admin/dashboard assets, no CDN, no extra server
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
]

ROOT_URLCONF = "mutt_project.urls"
WSGI_APPLICATION = "mutt_project.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# =============================================================================
# Database (PostgreSQL is the source of truth)
# =============================================================================
DATABASE_URL = secret("DATABASE_URL", "postgres://mutt@127.0.0.1:55432/mutt")
# Several hosts (libpq multi-host, target_session_attrs=read-write) or one
# Patroni/HAProxy endpoint: either way every process follows a failover (docs/ha.md).
try:
    DATABASES = {"default": database_settings(DATABASE_URL, dj_database_url.parse, env_int("DB_CONN_MAX_AGE", 600))}
except ValueError as exc:
    raise ImproperlyConfigured(str(exc)) from None
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DATABASES["default"].setdefault("OPTIONS", {})["connect_timeout"] = env_int("DB_CONNECT_TIMEOUT", 3, minimum=1)
DATABASES["default"]["TEST"] = {"NAME": env_str("DATABASE_TEST_NAME", "test_mutt")}
# TLS to PostgreSQL (libpq's sslmode and sslrootcert) for every connection: web, ingest, workers, Beat.
DB_SSL_MODE = env_str("DB_SSL_MODE", "")  # disable, allow, prefer, require, verify-ca, verify-full; empty: libpq's
DB_SSL_ROOT_CERT = env_str("DB_SSL_ROOT_CERT", "")  # the CA that signed the server's certificate
if DB_SSL_MODE and DB_SSL_MODE not in ("disable", "allow", "prefer", "require", "verify-ca", "verify-full"):
    raise ImproperlyConfigured(f"DB_SSL_MODE={DB_SSL_MODE!r}: use disable/allow/prefer/require/verify-ca/verify-full")
if DB_SSL_MODE:
    DATABASES["default"]["OPTIONS"]["sslmode"] = DB_SSL_MODE
if DB_SSL_ROOT_CERT:
    DATABASES["default"]["OPTIONS"]["sslrootcert"] = DB_SSL_ROOT_CERT
# Read replica (optional): event search and trace, backtests, rule health, dashboard statistics
# and the SLO read from it while it answers and lags at most REPLICA_MAX_LAG_SECONDS
# (mutt_project.replica; docs/ha.md). Writes never go there.
DATABASE_REPLICA_URL = secret("DATABASE_REPLICA_URL", "")
if DATABASE_REPLICA_URL:
    try:
        DATABASES["replica"] = database_settings(
            DATABASE_REPLICA_URL, dj_database_url.parse, env_int("DB_CONN_MAX_AGE", 600), "DATABASE_REPLICA_URL"
        )
    except ValueError as exc:
        raise ImproperlyConfigured(str(exc)) from None
    DATABASES["replica"]["CONN_HEALTH_CHECKS"] = True
    DATABASES["replica"].setdefault("OPTIONS", {})["connect_timeout"] = env_int("DB_CONNECT_TIMEOUT", 3, minimum=1)
    if DATABASES["replica"]["OPTIONS"].get("target_session_attrs") == "read-write":
        DATABASES["replica"]["OPTIONS"]["target_session_attrs"] = "any"  # a standby is what is wanted here
    for option, value in (("sslmode", DB_SSL_MODE), ("sslrootcert", DB_SSL_ROOT_CERT)):
        if value:
            DATABASES["replica"]["OPTIONS"][option] = value
    DATABASES["replica"]["TEST"] = {"MIRROR": "default"}
REPLICA_MAX_LAG_SECONDS = env_float("REPLICA_MAX_LAG_SECONDS", 30.0, minimum=0.0)
REPLICA_CHECK_SECONDS = env_float("REPLICA_CHECK_SECONDS", 5.0, minimum=0.0)
DATABASE_ROUTERS = ["mutt_project.replica.ReplicaRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# =============================================================================
# Redis and Celery
# =============================================================================
REDIS_URL = secret("REDIS_URL", "redis://127.0.0.1:56379/0")
REDIS_SOCKET_TIMEOUT = env_float("REDIS_SOCKET_TIMEOUT", 2.0, minimum=0.1)
# TLS to Redis for every client (MUTT's pool: limiter, breaker, wake-ups; Celery broker and backend):
# redis:// becomes rediss://, the server's certificate is checked against REDIS_CA_CERT_PATH.
REDIS_TLS_ENABLED = env_bool("REDIS_TLS_ENABLED", False)
REDIS_CA_CERT_PATH = env_str("REDIS_CA_CERT_PATH", "")  # empty: the system's CA store


def _tls_url(url: str) -> str:
    return "rediss://" + url.removeprefix("redis://") if REDIS_TLS_ENABLED and url.startswith("redis://") else url


REDIS_URL = _tls_url(REDIS_URL)
REDIS_SSL_OPTIONS = (
    {"ssl_cert_reqs": "required", **({"ssl_ca_certs": REDIS_CA_CERT_PATH} if REDIS_CA_CERT_PATH else {})}
    if REDIS_URL.startswith("rediss://")
    else {}
)

CELERY_BROKER_URL = _tls_url(secret("CELERY_BROKER_URL", REDIS_URL))
if CELERY_BROKER_URL.startswith("rediss://"):
    import ssl  # noqa: E402

    CELERY_BROKER_USE_SSL = {
        "ssl_cert_reqs": ssl.CERT_REQUIRED,
        **({"ssl_ca_certs": REDIS_CA_CERT_PATH} if REDIS_CA_CERT_PATH else {}),
    }
    CELERY_REDIS_BACKEND_USE_SSL = CELERY_BROKER_USE_SSL
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_DEFAULT_QUEUE = Queue.MAINTENANCE.value
CELERY_TASK_ROUTES = {name.value: route for name, route in TASK_ROUTES.items()}
# Longer than any countdown or retry delay we use, so Redis never redelivers
# a message that is merely waiting; short enough that a message held by a
# killed worker comes back within the hour.
CELERY_VISIBILITY_TIMEOUT = env_int("CELERY_VISIBILITY_TIMEOUT", 3600, minimum=60)
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": CELERY_VISIBILITY_TIMEOUT,
    "socket_timeout": 5,
    "socket_connect_timeout": 5,
}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Redis through Sentinel (docs/ha.md, "Redis and Beat"): with both set, every
# Redis user and the Celery broker ask these Sentinels for the master and
# follow a failover; the master's password and database stay in REDIS_URL.
REDIS_SENTINEL_HOSTS = env_list("REDIS_SENTINEL_HOSTS", [])  # host:port,host:port
REDIS_SENTINEL_MASTER = env_str("REDIS_SENTINEL_MASTER", "")
REDIS_SENTINEL_PASSWORD = secret("REDIS_SENTINEL_PASSWORD", "")
if REDIS_SENTINEL_HOSTS:
    if not REDIS_SENTINEL_MASTER:
        raise ImproperlyConfigured("REDIS_SENTINEL_MASTER: required when REDIS_SENTINEL_HOSTS is set")
    if REDIS_URL.startswith("rediss://"):
        raise ImproperlyConfigured("REDIS_URL: TLS (rediss://) through Sentinel is not supported yet")
    from mutt_project.redis_client import celery_broker_settings

    CELERY_BROKER_URL, _sentinel_options = celery_broker_settings(
        CELERY_BROKER_URL, REDIS_SENTINEL_HOSTS, REDIS_SENTINEL_MASTER, REDIS_SENTINEL_PASSWORD
    )
    CELERY_BROKER_TRANSPORT_OPTIONS.update(_sentinel_options)
elif REDIS_SENTINEL_MASTER:
    raise ImproperlyConfigured("REDIS_SENTINEL_HOSTS: required when REDIS_SENTINEL_MASTER is set")
CELERY_WORKER_SEND_TASK_EVENTS = True  # Flower shows tasks
CELERY_TASK_SEND_SENT_EVENT = False
# Beat runs on every node; the one holding a PostgreSQL advisory lock schedules
# (remediation.beat_leader, docs/ha.md "Redis and Beat"); standbys ask again
# every BEAT_LEADER_POLL_SECONDS. Each send writes the entry's last run at once,
# so a new leader continues from where the old one stopped.
CELERY_BEAT_SCHEDULER = "remediation.beat_scheduler:LeaderScheduler"
CELERY_BEAT_SYNC_EVERY = 1
BEAT_LEADER_POLL_SECONDS = env_float("BEAT_LEADER_POLL_SECONDS", 5.0, minimum=0.5)
# A leader whose machine vanished loses the lock after about this long (TCP keepalives).
BEAT_LEADER_KEEPALIVE_SECONDS = env_int("BEAT_LEADER_KEEPALIVE_SECONDS", 15, minimum=6)
CELERY_TIMEZONE = "UTC"

# =============================================================================
# Ingest
# =============================================================================
INGEST_API_KEYS = secret_list("INGEST_API_KEYS") or secret_list("INGEST_API_KEY")
# Keys live in the database (imported once from INGEST_API_KEYS); each ingest process re-reads them this often.
INGEST_KEY_REFRESH_SECONDS = env_float("INGEST_KEY_REFRESH_SECONDS", 2.0, minimum=0.0)
INGEST_MAX_BODY_BYTES = env_int("INGEST_MAX_BODY_BYTES", 10 * 1024 * 1024, minimum=1024)
INGEST_MAX_EVENTS_PER_REQUEST = env_int("INGEST_MAX_EVENTS_PER_REQUEST", 5000, minimum=1)
INGEST_MAX_MESSAGE_BYTES = env_int("INGEST_MAX_MESSAGE_BYTES", 64 * 1024, minimum=64)
MAX_INGEST_QUEUE_SIZE = env_int("MAX_INGEST_QUEUE_SIZE", 1_000_000, minimum=1)
INGEST_BACKLOG_CHECK_SECONDS = env_float("INGEST_BACKLOG_CHECK_SECONDS", 1.0, minimum=0.0)
INGEST_RETRY_AFTER_SECONDS = env_int("INGEST_RETRY_AFTER_SECONDS", 5, minimum=1)
# Fields every event must carry (comma-separated; the v2.5 guide's REQUIRED_MESSAGE_FIELDS).
# timestamp, hostname and message always are; name more (e.g. site) to refuse events without them.
INGEST_REQUIRED_FIELDS = tuple(env_list("INGEST_REQUIRED_FIELDS", ["timestamp", "message", "hostname"]))

# --- native receivers: syslog UDP/TCP/TLS and SNMP traps/informs (docs/receivers.md) ---
# A port of 0 turns that listener off. 514/162 need CAP_NET_BIND_SERVICE (deploy/systemd, deploy/k8s).
RECEIVER_HOST = env_str("RECEIVER_HOST", "127.0.0.1")
SYSLOG_UDP_PORT = env_int("SYSLOG_UDP_PORT", 5514, minimum=0, maximum=65535)
SYSLOG_TCP_PORT = env_int("SYSLOG_TCP_PORT", 5514, minimum=0, maximum=65535)
SYSLOG_TLS_PORT = env_int("SYSLOG_TLS_PORT", 0, minimum=0, maximum=65535)
# TLS (RFC 5425) with the certificate the HTTPS servers use unless set apart; a CA file makes
# client certificates required (and checked against it).
SYSLOG_TLS_CERT = env_str("SYSLOG_TLS_CERT", env_str("MUTT_TLS_CERT"))
SYSLOG_TLS_KEY = env_str("SYSLOG_TLS_KEY", env_str("MUTT_TLS_KEY"))
SYSLOG_TLS_CLIENT_CA = env_str("SYSLOG_TLS_CLIENT_CA")
SYSLOG_MAX_MESSAGE_BYTES = env_int("SYSLOG_MAX_MESSAGE_BYTES", 64 * 1024, minimum=480, maximum=16 * 1024 * 1024)
SYSLOG_DEFAULT_TIMEZONE = env_str("SYSLOG_DEFAULT_TIMEZONE", "UTC")  # for timestamps without a zone
SYSLOG_TCP_MAX_CONNECTIONS = env_int("SYSLOG_TCP_MAX_CONNECTIONS", 1000, minimum=1)
SYSLOG_TCP_IDLE_SECONDS = env_float("SYSLOG_TCP_IDLE_SECONDS", 600.0, minimum=1.0)
SYSLOG_UDP_RCVBUF_BYTES = env_int("SYSLOG_UDP_RCVBUF_BYTES", 8 * 1024 * 1024, minimum=65536)
# Senders allowed to deliver (CIDR); the default is loopback and the private ranges.
RECEIVER_ALLOWED_NETWORKS = env_list(
    "RECEIVER_ALLOWED_NETWORKS",
    ["127.0.0.0/8", "::1/128", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7"],
)
# Group commit: a flush every RECEIVER_FLUSH_MS or as soon as RECEIVER_FLUSH_MAX messages wait.
RECEIVER_FLUSH_MS = env_int("RECEIVER_FLUSH_MS", 20, minimum=0)
RECEIVER_FLUSH_MAX = env_int("RECEIVER_FLUSH_MAX", 2000, minimum=1, maximum=INGEST_MAX_EVENTS_PER_REQUEST)
# Read but not yet stored: past this, TCP stops reading and UDP drops (counted).
RECEIVER_MAX_PENDING = env_int("RECEIVER_MAX_PENDING", 20_000, minimum=1)
RECEIVER_METRICS_MAX_SOURCES = env_int("RECEIVER_METRICS_MAX_SOURCES", 1000, minimum=0)
# /health and /metrics of the receiver process (0 = off).
RECEIVER_HEALTH_HOST = env_str("RECEIVER_HEALTH_HOST", "127.0.0.1")
RECEIVER_HEALTH_PORT = env_int("RECEIVER_HEALTH_PORT", 8098, minimum=0, maximum=65535)
SNMP_TRAP_PORT = env_int("SNMP_TRAP_PORT", 5162, minimum=0, maximum=65535)
# SNMPv1/v2c communities accepted (secrets: the environment, NAME_FILE or Vault). None: v1/v2c off.
SNMP_COMMUNITIES = secret_list("SNMP_COMMUNITIES")
# SNMPv3 USM users, comma-separated, each user:AUTH:authkey:PRIV:privkey[:engine-id hex]
# (AUTH MD5|SHA|SHA224|SHA256|SHA384|SHA512, PRIV DES|3DES|AES|AES192|AES256). The engine id is
# the sender's (traps come from the sender's engine); informs need none.
SNMP_V3_USERS = secret_list("SNMP_V3_USERS")

# =============================================================================
# Classification (alerter)
# =============================================================================
RULE_CACHE_TTL = env_int("RULE_CACHE_TTL", 300, minimum=1)
CLASSIFY_MAX_EVENTS_PER_CLAIM = env_int("CLASSIFY_MAX_EVENTS_PER_CLAIM", 5000, minimum=1)
CLASSIFY_TIME_SLICE_SECONDS = env_float("CLASSIFY_TIME_SLICE_SECONDS", 10.0, minimum=0.1)
# A classifier that has had work looks again this long before it stops (saves a
# Celery round trip per short gap in a steady stream).
CLASSIFY_LINGER_SECONDS = env_float("CLASSIFY_LINGER_SECONDS", 0.05, minimum=0.0)
CLASSIFY_LEASE_SECONDS = env_int("CLASSIFY_LEASE_SECONDS", 60, minimum=5)  # a claim takes well under a second
CLASSIFY_MAX_DELIVERIES = env_int("CLASSIFY_MAX_DELIVERIES", 3, minimum=1)
DEFAULT_HANDLING = env_str("DEFAULT_HANDLING", "Log_only")
DEFAULT_TEAM = env_str("DEFAULT_TEAM", "NETO")
FORWARD_HANDLINGS = env_list("FORWARD_HANDLINGS", ["Page_and_ticket", "Page_only", "Ticket_only"])
UNHANDLED_EVENT_THRESHOLD = env_int("UNHANDLED_EVENT_THRESHOLD", 100, minimum=1)
UNHANDLED_EVENT_WINDOW = env_int("UNHANDLED_EVENT_WINDOW", 3600, minimum=1)
UNHANDLED_META_TEAM = env_str("UNHANDLED_META_TEAM", "NETO")
UNHANDLED_META_HANDLING = env_str("UNHANDLED_META_HANDLING", "Ticket_only")

# ---- issue 11: runtime-tunable alerter backpressure (defaults; operators change them at run time) ----
ALERTER_QUEUE_WARN_THRESHOLD = env_int("ALERTER_QUEUE_WARN_THRESHOLD", 100_000, minimum=1)
ALERTER_QUEUE_SHED_THRESHOLD = env_int("ALERTER_QUEUE_SHED_THRESHOLD", 500_000, minimum=1)
ALERTER_SHED_MODE = env_str("ALERTER_SHED_MODE", "dlq")
ALERTER_DEFER_SLEEP_MS = env_int("ALERTER_DEFER_SLEEP_MS", 250, minimum=0)
# SLOs reported by /api/v1/slo, computed from MUTT's own data over the window.
SLO_WINDOW_HOURS = env_int("SLO_WINDOW_HOURS", 24, minimum=1, maximum=24)
SLO_INGEST_AVAILABILITY_TARGET = env_float("SLO_INGEST_AVAILABILITY_TARGET", 0.999, minimum=0.0)
SLO_LATENCY_TARGET = env_float("SLO_LATENCY_TARGET", 0.95, minimum=0.0)
SLO_LATENCY_SECONDS = env_float("SLO_LATENCY_SECONDS", 5.0, minimum=0.0)
FLOWER_URL = env_str("FLOWER_URL", "http://127.0.0.1:5555/")
STATICFILES_DIRS = [BASE_DIR / "static"]  # vendored htmx and uPlot (no CDN), dashboard assets
LOGIN_URL = "admin:login"  # the dashboard logs in through the admin's login page
TEMPLATES[0]["OPTIONS"]["context_processors"].append("remediation.context.console_links")  # Flower link
# ---- end issue 11 ----

# =============================================================================
# Moogsoft forwarding
# =============================================================================
MOOG_WEBHOOK_URL = env_str("MOOG_WEBHOOK_URL", "http://127.0.0.1:8099/")
MOOG_API_KEY = secret("MOOG_API_KEY")
MOOG_API_KEY_HEADER = env_str("MOOG_API_KEY_HEADER", "X-API-Key")
MOOG_USERNAME = env_str("MOOG_USERNAME")
MOOG_PASSWORD = secret("MOOG_PASSWORD")
MOOG_TIMEOUT = env_float("MOOG_TIMEOUT", 10.0, minimum=0.1)
MOOG_VERIFY_TLS = env_bool("MOOG_VERIFY_TLS", True)
MOOG_CA_BUNDLE = env_str("MOOG_CA_BUNDLE")
MOOG_MAX_RETRIES = env_int("MOOG_MAX_RETRIES", 5, minimum=0)
MOOG_RETRY_BASE_DELAY = env_float("MOOG_RETRY_BASE_DELAY", 1.0, minimum=0.0)
MOOG_RETRY_MAX_DELAY = env_float("MOOG_RETRY_MAX_DELAY", 60.0, minimum=0.0)
MOOG_RATE_LIMIT = env_int("MOOG_RATE_LIMIT", 50, minimum=1)
MOOG_RATE_PERIOD = env_int("MOOG_RATE_PERIOD", 1, minimum=1)
# Added to the period when spacing slots, so a request that reaches Moogsoft a
# little after its slot never makes N+1 in one window (forwarding.rate_limiter).
MOOG_RATE_GUARD_SECONDS = env_float("MOOG_RATE_GUARD_SECONDS", 0.04, minimum=0.0)
MOOG_CIRCUIT_BREAKER_THRESHOLD = env_int("MOOG_CIRCUIT_BREAKER_THRESHOLD", 5, minimum=1)
MOOG_CIRCUIT_BREAKER_TIMEOUT = env_int("MOOG_CIRCUIT_BREAKER_TIMEOUT", 60, minimum=1)
MOOG_HEALTH_URL = env_str("MOOG_HEALTH_URL")  # default: MOOG_WEBHOOK_URL
FORWARD_TIME_SLICE_SECONDS = env_float("FORWARD_TIME_SLICE_SECONDS", 20.0, minimum=0.5)
FORWARD_CLAIM_SIZE = env_int("FORWARD_CLAIM_SIZE", 100, minimum=1)
# syslog severity (0-7) -> Moogsoft severity (0-5). Moogsoft 0 is "Clear", so
# an emergency must never be sent as 0.
MOOG_SEVERITY_MAP = [int(x) for x in env_list("MOOG_SEVERITY_MAP", ["5", "5", "4", "3", "2", "1", "1", "1"])]
if len(MOOG_SEVERITY_MAP) != 8 or not all(0 <= s <= 5 for s in MOOG_SEVERITY_MAP):
    raise ImproperlyConfigured("MOOG_SEVERITY_MAP needs 8 comma-separated values between 0 and 5")
MOOG_DEFAULT_SEVERITY = env_int("MOOG_DEFAULT_SEVERITY", 2, minimum=0, maximum=5)

# --- issue 15: forwarding under an alert storm (docs/forwarding.md) -----------
# Handling classes drained first to last, ';' between classes, ',' within one
# (oldest first inside a class); handlings not named form a last class. Read
# only through forwarding.priority.priority_classes().
FORWARD_PRIORITY_CLASSES = env_str("FORWARD_PRIORITY_CLASSES", "Page_and_ticket,Page_only;Ticket_only")
# Alerts per POST ({"events": [...]}); 1 = one event per request (the default).
MOOG_BATCH_SIZE = env_int("MOOG_BATCH_SIZE", 1, minimum=1, maximum=1000)
# Events per second across all workers on top of the request limit; 0 = no cap.
MOOG_EVENTS_PER_SECOND = env_float("MOOG_EVENTS_PER_SECOND", 0.0, minimum=0.0)
# An alert that waited longer than this (seconds) becomes a `stale` dead letter; 0 = off.
MOOG_MAX_ALERT_AGE = env_float("MOOG_MAX_ALERT_AGE", 0.0, minimum=0.0)
# --- end issue 15 -------------------------------------------------------------

# =============================================================================
# Remediation and retention
# =============================================================================
SWEEP_GRACE_SECONDS = env_int("SWEEP_GRACE_SECONDS", 60, minimum=1)
MAX_DLQ_RETRIES = env_int("MAX_DLQ_RETRIES", 5, minimum=1)
DLQ_BACKOFF_MAX_SECONDS = env_int("DLQ_BACKOFF_MAX_SECONDS", 3600, minimum=1)
# Dead-letter replay (the v2.5 guide's names): letters per replay run, and
# whether a light GET on Moogsoft (MOOG_HEALTH_URL, this timeout) must answer
# before forward letters are replayed. The run's interval is
# REMEDIATION_INTERVAL_SECONDS (remediation/schedule.py, read with the schedule).
DLQ_BATCH_SIZE = env_int("DLQ_BATCH_SIZE", 500, minimum=1)
MOOG_HEALTH_CHECK_ENABLED = env_bool("MOOG_HEALTH_CHECK_ENABLED", True)
MOOG_HEALTH_TIMEOUT = env_float("MOOG_HEALTH_TIMEOUT", 5.0, minimum=0.1)
EVENT_RETENTION_DAYS = env_int("EVENT_RETENTION_DAYS", 90, minimum=1)
PARTITION_MONTHS_AHEAD = env_int("PARTITION_MONTHS_AHEAD", 3, minimum=1)
BATCH_RETENTION_HOURS = env_int("BATCH_RETENTION_HOURS", 24, minimum=1)
# Archive before delete (remediation.retention, docs/data-lifecycle.md): file:///dir or s3://bucket/prefix.
# Empty keeps everything past retention (with a warning); "none" deletes without an archive.
AUDIT_ARCHIVE_URL = env_str("AUDIT_ARCHIVE_URL", "")
AUDIT_ARCHIVE_S3_ENDPOINT_URL = env_str("AUDIT_ARCHIVE_S3_ENDPOINT_URL", "")  # MinIO, Ceph, any S3-compatible store
AUDIT_ARCHIVE_S3_REGION = env_str("AUDIT_ARCHIVE_S3_REGION", "")
# config_audit_log rows older than this are archived then deleted; 0 keeps them forever.
AUDIT_RETENTION_DAYS = env_int("AUDIT_RETENTION_DAYS", 365, minimum=0)
# A month brought back by `manage.py archive_restore` stays this long before retention drops it again.
AUDIT_RESTORE_HOLD_DAYS = env_int("AUDIT_RESTORE_HOLD_DAYS", 7, minimum=0)
# The daily retention run (archive, verify, drop) may take this long; its SQL is not cut by
# MAINTENANCE_STATEMENT_TIMEOUT_MS (one COPY of a large month outlasts it), only by this limit.
RETENTION_TASK_SOFT_TIME_LIMIT = env_int("RETENTION_TASK_SOFT_TIME_LIMIT", 4 * 3600, minimum=60)

# =============================================================================
# Web, API, static files
# =============================================================================
# --- issue 9: operator REST API (docs/api.md) -------------------------------
INSTALLED_APPS += ["rest_framework_api_key", "django_filters", "drf_spectacular_sidecar"]
REST_FRAMEWORK = {
    # API key first: its WWW-Authenticate makes "no credentials" a 401, not a 403.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "alerts.api.authentication.ApiKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",  # the browser, with CSRF on writes
    ],
    # Scope implied by the method: GET needs read, anything else write (alerts/api/permissions.py).
    "DEFAULT_PERMISSION_CLASSES": ["alerts.api.permissions.HasScopeForMethod"],
    "DEFAULT_SCHEMA_CLASS": "alerts.api.schema.MuttAutoSchema",
    "DEFAULT_PARSER_CLASSES": ["alerts.api.parsers.SizeLimitedJSONParser"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_THROTTLE_CLASSES": ["alerts.api.throttling.ApiClientRateThrottle"],
    "EXCEPTION_HANDLER": "alerts.api.errors.api_exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
API_MAX_BODY_BYTES = env_int("API_MAX_BODY_BYTES", 64 * 1024, minimum=1024)
API_THROTTLE_RATE = env_str(
    "API_THROTTLE_RATE", "1200/min"
)  # per key / user / address, across all web processes (Redis)
MIDDLEWARE.insert(
    MIDDLEWARE.index("django.middleware.common.CommonMiddleware"), "alerts.api.throttling.RateLimitHeadersMiddleware"
)
API_EVENTS_DEFAULT_WINDOW_SECONDS = env_int("API_EVENTS_DEFAULT_WINDOW_SECONDS", 3600, minimum=60)
SPECTACULAR_SETTINGS = {
    "TITLE": "MUTT API",
    "VERSION": VERSION,
    "DESCRIPTION": "Operator REST API: rules, development hosts, device teams, audit trails, events, dead letters.",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",  # vendored by drf-spectacular-sidecar: no CDN
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
}
# --- end issue 9 --------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / ".run" / "static"
WHITENOISE_AUTOREFRESH = DEBUG  # serve app static files without collectstatic in development
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("DATA_UPLOAD_MAX_MEMORY_SIZE", 2_621_440)
PROMETHEUS_EXPORT_MIGRATIONS = False

# =============================================================================
# Logging (secrets are never logged: nothing here formats settings)
# =============================================================================
LOG_LEVEL = env_str("LOG_LEVEL", "INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

# ---- issue 11: JSON logs (one object per line) when LOG_FORMAT=json, the production default ----
LOG_FORMAT = env_str("LOG_FORMAT", "json" if PRODUCTION else "text")
if LOG_FORMAT not in ("json", "text"):
    raise ImproperlyConfigured("LOG_FORMAT must be json or text")
LOGGING["formatters"]["json"] = {"()": "mutt_project.log_format.JsonFormatter"}
LOGGING["filters"] = {
    "context": {"()": "mutt_project.log_format.ContextFilter"},
    "redact": {"()": "mutt_project.log_format.RedactFilter"},
}
LOGGING["handlers"]["console"]["formatter"] = "json" if LOG_FORMAT == "json" else "plain"
LOGGING["handlers"]["console"]["filters"] = ["context", "redact"]
# ---- end issue 11 ----

# =============================================================================
# Alert lifecycle (issue 14): repeat folding window, runtime-tunable
# =============================================================================
FOLD_WINDOW_SECONDS = env_int("FOLD_WINDOW_SECONDS", 60, minimum=0)
SIGNATURE_RETENTION_DAYS = env_int("SIGNATURE_RETENTION_DAYS", 7, minimum=1)
# Email_only digests (forwarding.email_digest), SMTP through Django's mail framework.
EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25, minimum=1, maximum=65535)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = secret("EMAIL_HOST_PASSWORD", "")  # Vault when configured, else the environment
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 10, minimum=1)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "mutt@localhost")
EMAIL_DIGEST_SECONDS = env_int("EMAIL_DIGEST_SECONDS", 60, minimum=5)
EMAIL_DIGEST_MAX_EVENTS = env_int("EMAIL_DIGEST_MAX_EVENTS", 20, minimum=1)
EMAIL_DIGEST_MAX_ROWS = env_int("EMAIL_DIGEST_MAX_ROWS", 10_000, minimum=1)
EMAIL_MAX_RETRIES = env_int("EMAIL_MAX_RETRIES", 10, minimum=1)
EMAIL_RETRY_BASE_SECONDS = env_int("EMAIL_RETRY_BASE_SECONDS", 30, minimum=1)

# =============================================================================
# Production guard
# =============================================================================
if PRODUCTION:
    if DEBUG:
        raise ImproperlyConfigured("MUTT_ENV=production refuses to start with DJANGO_DEBUG on")
    if SECRET_KEY == _DEFAULT_SECRET_KEY or len(SECRET_KEY) < 32:
        raise ImproperlyConfigured("MUTT_ENV=production needs DJANGO_SECRET_KEY (32+ characters)")
    if not INGEST_API_KEYS:
        raise ImproperlyConfigured("MUTT_ENV=production needs INGEST_API_KEYS")
    SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", True)
    CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", True)

# --- production runtime: TLS behind a proxy (issue 12; docs/deployment.md) ---
# Behind a TLS-terminating proxy (Ingress, load balancer) that sets
# X-Forwarded-Proto; never set it where clients reach MUTT directly.
MUTT_BEHIND_PROXY = env_bool("MUTT_BEHIND_PROXY", False)
if MUTT_BEHIND_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
if PRODUCTION:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    # Probes and Prometheus reach these over plain HTTP inside the cluster.
    SECURE_REDIRECT_EXEMPT = [r"^health$", r"^metrics$"]
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31_536_000, minimum=0)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
# Password rotation: DB_PASS_CURRENT/NEXT and REDIS_PASS_CURRENT/NEXT (Vault)
# instead of a password in DATABASE_URL / REDIS_URL (mutt_project/secrets.py).
if secret("DB_PASS_CURRENT"):
    DATABASES["default"]["ENGINE"] = "mutt_project.db_rotating"
REDIS_PASSWORD_ROTATION = bool(secret("REDIS_PASS_CURRENT"))
if REDIS_PASSWORD_ROTATION:
    CELERY_BROKER_TRANSPORT_OPTIONS["credential_provider"] = "mutt_project.secrets.RedisPasswordProvider"
# --- end production runtime ---

# =============================================================================
# Security: login protection (docs/security.md)
# =============================================================================
# Client address: REMOTE_ADDR, or behind our proxy the hop it appended to X-Forwarded-For.
MUTT_PROXY_COUNT = env_int("MUTT_PROXY_COUNT", 1, minimum=1)
LOGIN_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5, minimum=1)
LOGIN_COOLOFF_MINUTES = env_int("LOGIN_COOLOFF_MINUTES", 15, minimum=1)
INSTALLED_APPS += ["axes"]
MIDDLEWARE += ["axes.middleware.AxesMiddleware"]  # last, as django-axes asks
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # first: refuses a locked-out username+address before any password check
    "mutt_project.sso.LocalLoginBackend",  # local passwords (only the break-glass account when switched off)
]
# Single sign-on (OIDC, optional): groups claim → read/write/admin (mutt_project/sso.py, docs/security.md).
MUTT_LOCAL_LOGIN = env_bool("MUTT_LOCAL_LOGIN", True)
MUTT_BREAK_GLASS_USER = env_str("MUTT_BREAK_GLASS_USER", "admin")
MUTT_OIDC_ENABLED = env_bool("MUTT_OIDC_ENABLED", False)
OIDC_RP_CLIENT_ID = env_str("OIDC_RP_CLIENT_ID", "")
OIDC_RP_CLIENT_SECRET = secret("OIDC_RP_CLIENT_SECRET", "")
OIDC_OP_AUTHORIZATION_ENDPOINT = env_str("OIDC_OP_AUTHORIZATION_ENDPOINT", "")
OIDC_OP_TOKEN_ENDPOINT = env_str("OIDC_OP_TOKEN_ENDPOINT", "")
OIDC_OP_USER_ENDPOINT = env_str("OIDC_OP_USER_ENDPOINT", "")
OIDC_OP_JWKS_ENDPOINT = env_str("OIDC_OP_JWKS_ENDPOINT", "")
OIDC_RP_SIGN_ALGO = env_str("OIDC_RP_SIGN_ALGO", "RS256")
OIDC_RP_SCOPES = env_str("OIDC_RP_SCOPES", "openid email profile groups")
OIDC_TIMEOUT = env_float("OIDC_TIMEOUT", 10.0, minimum=0.5)
OIDC_GROUPS_CLAIM = env_str("OIDC_GROUPS_CLAIM", "groups")
OIDC_ADMIN_GROUPS = env_list("OIDC_ADMIN_GROUPS", ["mutt-admin"])
OIDC_WRITE_GROUPS = env_list("OIDC_WRITE_GROUPS", ["mutt-write"])
OIDC_READ_GROUPS = env_list("OIDC_READ_GROUPS", ["mutt-read"])
if MUTT_OIDC_ENABLED:
    INSTALLED_APPS += ["mozilla_django_oidc"]
    AUTHENTICATION_BACKENDS.append("mutt_project.sso.MuttOIDCBackend")
LOGIN_REDIRECT_URL = "/"
TEMPLATES[0]["OPTIONS"]["context_processors"].append("mutt_project.context.sso")  # the login page's SSO link
AXES_FAILURE_LIMIT = LOGIN_FAILURE_LIMIT
AXES_COOLOFF_TIME = _timedelta(minutes=LOGIN_COOLOFF_MINUTES)  # failures older than this are forgotten
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_CLIENT_IP_CALLABLE = "mutt_project.client_ip.client_ip"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
# Content security policy (django-csp 4): only our own vendored scripts and styles, no
# inline code (nonces where a page cannot avoid it), never framed.
from csp.constants import NONCE, NONE, SELF  # noqa: E402

INSTALLED_APPS += ["csp"]
MIDDLEWARE.insert(MIDDLEWARE.index("django.middleware.security.SecurityMiddleware") + 1, "csp.middleware.CSPMiddleware")
TEMPLATES[0]["OPTIONS"]["context_processors"].append("csp.context_processors.nonce")
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF, NONCE],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
# Prometheus sends it as a bearer token (deploy/prometheus, deploy/k8s); empty: /metrics open.
METRICS_TOKEN = secret("METRICS_TOKEN", "")

# =============================================================================
# Beat schedule (owned by remediation)
# =============================================================================
from remediation.schedule import BEAT_SCHEDULE  # noqa: E402  (after the settings it may read)

CELERY_BEAT_SCHEDULE = BEAT_SCHEDULE

# ---- issue 13: bounds on every step (docs/reliability.md, "Bounds") ----
# A forward outbox row whose lease ended this many times without an outcome
# (its worker died while sending it) becomes a forward dead letter.
FORWARD_MAX_DELIVERIES = env_int("FORWARD_MAX_DELIVERIES", 3, minimum=1)
# A forward lease is a slice plus one request plus this margin (was a fixed 30 s).
FORWARD_LEASE_MARGIN_SECONDS = env_float("FORWARD_LEASE_MARGIN_SECONDS", 30.0, minimum=1.0)
# Task time limits (seconds): soft raises SoftTimeLimitExceeded in the task,
# hard kills the pool process (the lease then counts a delivery).
CLASSIFY_TASK_SOFT_TIME_LIMIT = env_int("CLASSIFY_TASK_SOFT_TIME_LIMIT", 90, minimum=1)
FORWARD_TASK_SOFT_TIME_LIMIT = env_int("FORWARD_TASK_SOFT_TIME_LIMIT", 90, minimum=1)
MAINTENANCE_TASK_SOFT_TIME_LIMIT = env_int("MAINTENANCE_TASK_SOFT_TIME_LIMIT", 300, minimum=1)
BACKTEST_TASK_SOFT_TIME_LIMIT = env_int("BACKTEST_TASK_SOFT_TIME_LIMIT", 1800, minimum=1)
TASK_HARD_LIMIT_GRACE = env_int("TASK_HARD_LIMIT_GRACE", 30, minimum=1)  # hard = soft + this
CELERY_TASK_SOFT_TIME_LIMIT = MAINTENANCE_TASK_SOFT_TIME_LIMIT  # any task without its own
CELERY_TASK_TIME_LIMIT = MAINTENANCE_TASK_SOFT_TIME_LIMIT + TASK_HARD_LIMIT_GRACE
# Every database session of a worker process (not web, not ingest): statements
# and lock waits beyond these are cancelled, the task retries (mutt_project.worker_db).
WORKER_STATEMENT_TIMEOUT_MS = env_int("WORKER_STATEMENT_TIMEOUT_MS", 30_000, minimum=0)
WORKER_LOCK_TIMEOUT_MS = env_int("WORKER_LOCK_TIMEOUT_MS", 10_000, minimum=0)
# A worker consuming the maintenance queue (backtests and rule health scan the audit log).
MAINTENANCE_STATEMENT_TIMEOUT_MS = env_int("MAINTENANCE_STATEMENT_TIMEOUT_MS", 600_000, minimum=0)
# ---- end issue 13 ----
