"""The reference documents' (v2.3 and v2.5) variable names, accepted as aliases of MUTT's own.

``aliases_derive(environ)`` returns the values of MUTT's variables that the
old names give (only where MUTT's own variable is not set) and one warning
per old name naming the variable to use instead. ``mutt_project.settings``
calls it first; the warnings are logged at start-up (``alerts.apps``).

Pure: no I/O, nothing written to the environment.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from urllib.parse import quote


def _bool_to_format(value: str) -> str:
    return "json" if value.strip().lower() in ("1", "true", "yes", "on") else "text"


def _same(value: str) -> str:
    return value


# old name -> (our name, conversion)
ALIASES: dict[str, tuple[str, Callable[[str], str]]] = {
    "MOOG_RATE_LIMIT_PER_SEC": ("MOOG_RATE_LIMIT", _same),  # per second: our MOOG_RATE_PERIOD defaults to 1
    "ALERTER_CACHE_TTL_SECONDS": ("RULE_CACHE_TTL", _same),
    "ALERTER_RULE_CACHE_REFRESH_INTERVAL": ("RULE_CACHE_TTL", _same),
    "LOG_JSON_ENABLED": ("LOG_FORMAT", _bool_to_format),
    "REQUIRED_MESSAGE_FIELDS": ("INGEST_REQUIRED_FIELDS", _same),
    "PARTITION_PRECREATE_MONTHS": ("PARTITION_MONTHS_AHEAD", _same),
    "POSTGRES_SSL_MODE": ("DB_SSL_MODE", _same),
    "REDIS_SSL": ("REDIS_TLS_ENABLED", _same),
    "REDIS_TLS_CA_CERT": ("REDIS_CA_CERT_PATH", _same),
    "INGEST_API_KEY": ("INGEST_API_KEYS", _same),
}

# Several old names that together make one URL of ours.
POSTGRES_PARTS = {
    "host": ("POSTGRES_HOST", "DB_HOST"),
    "port": ("POSTGRES_PORT", "DB_PORT"),
    "name": ("POSTGRES_DB", "DB_NAME"),
    "user": ("POSTGRES_USER", "DB_USER"),
    "password": ("POSTGRES_PASSWORD", "DB_PASSWORD"),
}
REDIS_PARTS = {
    "host": ("REDIS_HOST",),
    "port": ("REDIS_PORT",),
    "db": ("REDIS_DB",),
    "password": ("REDIS_PASSWORD",),
}

# Old names with no counterpart here (the queue, pool and pod they configured do not exist in this design).
UNUSED = (
    "INGEST_QUEUE_NAME", "ALERT_QUEUE_NAME", "METRICS_PREFIX", "DB_POOL_MIN_CONN", "DB_POOL_MAX_CONN",
    "DB_POOL_MAX_OVERFLOW", "REDIS_POOL_MIN_CONN", "REDIS_POOL_MAX_CONN", "REDIS_MAX_CONNECTIONS",
    "ALERTER_POD_NAME", "MOOG_POD_NAME", "ALERTER_WORKER_ID", "MOOG_FORWARDER_WORKER_ID",
    "ALERTER_HEARTBEAT_INTERVAL", "MOOG_HEARTBEAT_INTERVAL", "REMEDIATION_INTERVAL_SECONDS",
)  # fmt: skip


def _first(environ: Mapping[str, str], names: tuple[str, ...]) -> tuple[str, str] | None:
    for name in names:
        if environ.get(name, "") != "":
            return name, environ[name]
    return None


def _parts(environ: Mapping[str, str], parts: dict[str, tuple[str, ...]]) -> tuple[dict[str, str], list[str]]:
    found: dict[str, str] = {}
    used: list[str] = []
    for key, names in parts.items():
        hit = _first(environ, names)
        if hit:
            used.append(hit[0])
            found[key] = hit[1]
    return found, used


def _postgres_url(p: dict[str, str]) -> str:
    auth = quote(p.get("user", "mutt"), safe="")
    if p.get("password"):
        auth += ":" + quote(p["password"], safe="")
    return f"postgres://{auth}@{p.get('host', 'localhost')}:{p.get('port', '5432')}/{p.get('name', 'mutt')}"


def _redis_url(p: dict[str, str]) -> str:
    auth = f":{quote(p['password'], safe='')}@" if p.get("password") else ""
    return f"redis://{auth}{p.get('host', 'localhost')}:{p.get('port', '6379')}/{p.get('db', '0')}"


def aliases_derive(environ: Mapping[str, str]) -> tuple[dict[str, str], list[str]]:
    """(values of our variables given by old names, warnings) for the environment ``environ``."""
    values: dict[str, str] = {}
    warnings: list[str] = []
    for old, (ours, convert) in ALIASES.items():
        if old not in environ:
            continue
        if ours in environ or ours in values:
            warnings.append(f"{old} is ignored: {ours} is set (it is this MUTT's name for the same setting)")
            continue
        values[ours] = convert(environ[old])
        warnings.append(f"{old} is a reference-document name: use {ours}")
    for ours, parts, build in (
        ("DATABASE_URL", POSTGRES_PARTS, _postgres_url),
        ("REDIS_URL", REDIS_PARTS, _redis_url),
    ):
        found, used = _parts(environ, parts)
        if not used:
            continue
        names = ", ".join(used)
        if ours in environ or f"{ours}_FILE" in environ:
            warnings.append(f"{names} ignored: {ours} is set")
            continue
        values[ours] = build(found)
        warnings.append(f"{names} are reference-document names: use {ours}")
    for old in UNUSED:
        if old in environ:
            warnings.append(f"{old} has no effect in this MUTT (no such queue, pool or pod here)")
    return values, warnings
