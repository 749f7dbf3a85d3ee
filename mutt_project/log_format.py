"""Log records as one JSON object per line (``LOG_FORMAT=json``), with correlation ids and no secrets.

- ``JsonFormatter``: python-json-logger with MUTT's field names: ``timestamp``
  (ISO 8601 UTC), ``level``, ``process``, ``logger``, ``message``, ``service``,
  ``version``, ``host`` (the pod name on Kubernetes), ``module``, ``function``,
  ``line``, plus any ``extra`` and the correlation context below.
- ``log_context(correlation_id=..., batch_ids=...)``: a context variable that
  ``ContextFilter`` copies onto every record emitted while it is set, so the
  log calls that already exist in ingest, classify and forwarding carry the
  ids of the event or batch being handled without each call passing them.
- ``RedactFilter``: replaces any configured secret value (API keys,
  passwords) that reaches a message with ``[redacted]``. Written here because
  no logging library knows which strings are MUTT's secrets; it costs one
  substring scan per emitted record (records below the level never get here).
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
import os
import socket
from datetime import UTC, datetime

from pythonjsonlogger.json import JsonFormatter as _LibraryJsonFormatter

_context: contextvars.ContextVar[dict | None] = contextvars.ContextVar("mutt_log_context", default=None)


@contextlib.contextmanager
def log_context(**fields):
    """Attach ``fields`` (e.g. ``correlation_id``, ``batch_ids``) to every log record inside the block."""
    token = _context.set({**(_context.get() or {}), **{k: v for k, v in fields.items() if v is not None}})
    try:
        yield
    finally:
        _context.reset(token)


class ContextFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        fields = _context.get()
        if fields:
            for key, value in fields.items():
                if not hasattr(record, key):
                    setattr(record, key, value)
        return True


def _secret_values() -> list[str]:
    from django.conf import settings

    values = [
        *getattr(settings, "INGEST_API_KEYS", []),
        getattr(settings, "MOOG_API_KEY", ""),
        getattr(settings, "MOOG_PASSWORD", ""),
    ]
    for url_name in ("DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL"):
        from urllib.parse import urlparse

        password = urlparse(getattr(settings, url_name, "") or "").password
        values.append(password or "")
    values.append(getattr(settings, "SECRET_KEY", ""))
    values.append(getattr(settings, "EMAIL_HOST_PASSWORD", ""))
    values += _named_secrets()
    return [v for v in values if v and len(v) >= 6]


# Secrets read by name (Vault or the environment, NAME_FILE too): rotation pairs, Vault's own credential,
# the reference documents' password variables, the archive store's key.
SECRET_NAMES = (
    "DB_PASS_CURRENT", "DB_PASS_NEXT", "REDIS_PASS_CURRENT", "REDIS_PASS_NEXT", "EMAIL_HOST_PASSWORD",
    "VAULT_SECRET_ID", "VAULT_TOKEN", "POSTGRES_PASSWORD", "DB_PASSWORD", "REDIS_PASSWORD", "AWS_SECRET_ACCESS_KEY",
)  # fmt: skip


def _named_secrets() -> list[str]:
    import os

    from mutt_project.env import env_secret
    from mutt_project.secrets import secret

    values = []
    for name in SECRET_NAMES:
        values.append(env_secret(name))
        if name.startswith(("DB_PASS_", "REDIS_PASS_", "EMAIL_")):
            values.append(secret(name))
    # Any other rotation slot (DB_PASS_PREVIOUS, ...) given in the environment.
    values += [
        v for k, v in os.environ.items() if k.startswith(("DB_PASS_", "REDIS_PASS_")) and not k.endswith("_FILE")
    ]
    return values


class RedactFilter(logging.Filter):
    """Never let a configured secret value into a log line."""

    _secrets: list[str] | None = None

    def filter(self, record: logging.LogRecord) -> bool:
        if self._secrets is None:
            try:
                RedactFilter._secrets = _secret_values()
            except Exception:  # noqa: BLE001 - settings not ready (early start-up): nothing to redact yet
                return True
        if self._secrets:
            message = record.getMessage()
            redacted = message
            for secret in self._secrets:
                if secret in redacted:
                    redacted = redacted.replace(secret, "[redacted]")
            if redacted is not message and redacted != message:
                record.msg, record.args = redacted, None
        return True


class JsonFormatter(_LibraryJsonFormatter):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("rename_fields", {"levelname": "level", "name": "logger"})
        super().__init__("%(levelname)s %(process)d %(name)s %(message)s", *args, **kwargs)

    def add_fields(self, log_record: dict, record: logging.LogRecord, message_dict: dict) -> None:
        super().add_fields(log_record, record, message_dict)
        log_record["timestamp"] = datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds")
        for key, value in _process_fields().items():
            log_record.setdefault(key, value)
        log_record.setdefault("module", record.module)
        log_record.setdefault("function", record.funcName)
        log_record.setdefault("line", record.lineno)


_PROCESS_FIELDS: dict | None = None


def _process_fields() -> dict:
    """Who wrote the line: service, release, and the pod (Kubernetes POD_NAME) or host."""
    global _PROCESS_FIELDS
    if _PROCESS_FIELDS is None:
        from mutt_project.version import VERSION

        _PROCESS_FIELDS = {
            "service": os.environ.get("MUTT_SERVICE_NAME", "web"),
            "version": VERSION,
            "host": os.environ.get("POD_NAME") or socket.gethostname(),
        }
    return _PROCESS_FIELDS
