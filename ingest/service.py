"""The ingest request, step by step: auth ▸ read ▸ parse ▸ validate ▸ backpressure ▸ store."""

from __future__ import annotations

import logging
import time

from django.conf import settings
from django.db import DatabaseError, connection
from django.utils import timezone

from alerts.inbox import batch_accept
from ingest.auth import api_key_valid, request_api_key
from ingest.parsing import BodyError, EventError, Limits, normalise_event, parse_body

log = logging.getLogger(__name__)


class IngestRefused(Exception):
    def __init__(self, status: int, message: str, retry_after: int | None = None, extra: dict | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.retry_after = retry_after
        self.extra = extra or {}


_backlog = {"value": 0, "checked": 0.0}


def backlog_events() -> int:
    """Unclassified events, read from PostgreSQL at most every INGEST_BACKLOG_CHECK_SECONDS."""
    now = time.monotonic()
    if now - _backlog["checked"] >= settings.INGEST_BACKLOG_CHECK_SECONDS:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT coalesce(sum(event_count), 0) FROM ingest_batches WHERE status IN ('pending', 'processing')"
            )
            _backlog["value"] = int(cursor.fetchone()[0])
        _backlog["checked"] = now
    return _backlog["value"]


def _read_body(request) -> bytes:
    limit = settings.INGEST_MAX_BODY_BYTES
    length = request.headers.get("Content-Length")
    if length and length.isdigit() and int(length) > limit:
        raise IngestRefused(413, f"body larger than {limit} bytes")
    raw = request.read(limit + 1)
    if len(raw) > limit:
        raise IngestRefused(413, f"body larger than {limit} bytes")
    return raw


def ingest_request(request) -> tuple[int, dict]:
    if not api_key_valid(request_api_key(request)):
        raise IngestRefused(401, "missing or invalid API key (X-API-Key or Authorization: Bearer)")
    raw = _read_body(request)
    received_at = timezone.now()
    try:
        candidates = parse_body(raw)
    except BodyError as exc:
        raise IngestRefused(400, str(exc)) from None
    limits = Limits(settings.INGEST_MAX_EVENTS_PER_REQUEST, settings.INGEST_MAX_MESSAGE_BYTES)
    if len(candidates) > limits.max_events:
        raise IngestRefused(413, f"more than {limits.max_events} events in one request")
    accepted: list[dict] = []
    rejected: list[dict] = []
    for index, candidate in enumerate(candidates):
        try:
            accepted.append(normalise_event(candidate, limits, received_at))
        except EventError as exc:
            rejected.append({"index": index, "error": str(exc)})
    if not accepted:
        reason = rejected[0]["error"] if len(rejected) == 1 else "no valid event in the request"
        raise IngestRefused(400, reason, extra={"accepted": 0, "rejected": rejected})
    try:
        if backlog_events() > settings.MAX_INGEST_QUEUE_SIZE:
            raise IngestRefused(503, "ingest backlog is full, retry later", settings.INGEST_RETRY_AFTER_SECONDS)
        batch_accept(accepted, received_at)
    except DatabaseError as exc:
        log.warning("ingest: batch not stored (%s); answering 503", type(exc).__name__)
        raise IngestRefused(503, "storage unavailable, retry later", settings.INGEST_RETRY_AFTER_SECONDS) from None
    cids = [e["correlation_id"] for e in accepted]
    if len(candidates) == 1 and isinstance(candidates[0], dict) and raw.lstrip()[:1] == b"{" and not rejected:
        return 202, {"status": "accepted", "correlation_id": cids[0]}
    return 202, {"status": "accepted", "accepted": len(accepted), "rejected": rejected, "correlation_ids": cids}

