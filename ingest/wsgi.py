"""The ingest process's WSGI application: the front door without Django's request machinery.

``POST /api/v2/ingest`` (and ``/ingest``) go straight to ``ingest_handle``: no
URL resolver, no middleware (sessions, auth, CSRF, messages have nothing to do
here), no per-request connection health check. ``/health`` and ``/metrics``
go to Django as usual; every other path is 404, so the ingest port exposes
nothing but ingest. Served by granian (see the Procfile ``ingest:`` line).

Database connections persist per thread (what CONN_MAX_AGE would give);
``ingest.service`` drops and reopens one that went stale.
"""

from __future__ import annotations

import logging
import os
from http import HTTPStatus

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mutt_project.settings")
os.environ.setdefault("MUTT_SERVICE_NAME", "ingest")

import orjson  # noqa: E402
from django.core.wsgi import get_wsgi_application  # noqa: E402

django_application = get_wsgi_application()

from ingest.service import ingest_handle  # noqa: E402 - needs the apps loaded
from mutt_project.redis_client import startup_check  # noqa: E402

startup_check()  # Sentinel settings that cannot work stop the process with the setting's name

log = logging.getLogger(__name__)

INGEST_PATHS = frozenset({"/api/v2/ingest", "/ingest"})
DJANGO_PATHS = frozenset({"/health", "/metrics"})
_JSON = ("Content-Type", "application/json")


def _reply(start_response, status: int, body: dict, headers: dict | None = None) -> list[bytes]:
    payload = orjson.dumps(body)
    extra = list((headers or {}).items())
    start_response(f"{status} {HTTPStatus(status).phrase}", [_JSON, ("Content-Length", str(len(payload))), *extra])
    return [payload]


def _header_getter(environ: dict):
    def header(name: str) -> str | None:
        key = name.upper().replace("-", "_")
        if key not in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            key = "HTTP_" + key
        return environ.get(key)

    return header


def application(environ, start_response):
    path = environ.get("PATH_INFO", "")
    if path.rstrip("/") in INGEST_PATHS:
        if environ.get("REQUEST_METHOD") != "POST":
            return _reply(start_response, 405, {"error": "use POST"}, {"Allow": "POST"})
        stream = environ["wsgi.input"]
        try:
            result = ingest_handle(_header_getter(environ), stream.read)
        except Exception:
            # Last resort: a bug must still answer JSON (and be logged with its traceback).
            log.exception("ingest: unexpected error")
            return _reply(start_response, 500, {"error": "internal error"})
        return _reply(start_response, result.status, result.body, result.headers)
    if path in DJANGO_PATHS:
        return django_application(environ, start_response)
    return _reply(start_response, 404, {"error": "not found: the ingest port serves POST /api/v2/ingest only"})
