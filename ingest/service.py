"""The ingest request, step by step: auth ▸ read ▸ decode ▸ parse ▸ validate ▸ backpressure ▸ store.

Framework-neutral: ``ingest_handle`` takes a header getter and a body reader
and returns an ``IngestResponse``, so the Django view (web process, tests) and
the lean WSGI path of the ingest process (``ingest.wsgi``) share every rule.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from django.conf import settings
from django.db import Error as DbApiError  # DatabaseError and InterfaceError: a closed connection raises the latter
from django.db import InterfaceError, OperationalError, connection, transaction

from alerts.inbox import batch_accept
from alerts.pipeline_stats import ingest_failure_record
from ingest.auth import api_key_valid, presented_api_key
from ingest.backpressure import backlog_full
from ingest.metrics import EVENTS_ACCEPTED, EVENTS_REJECTED, LATENCY, REQUESTS, REQUESTS_ACCEPTED, request_status
from ingest.notifier import classifiers_wake_and_count
from ingest.parsing import (
    BodyError,
    BodyTooLarge,
    EventError,
    Limits,
    UnsupportedMediaType,
    check_content_type,
    decode_body,
    encode_event,
    normalise_event,
    parse_body,
)
from mutt_project.log_format import log_context

log = logging.getLogger(__name__)


class IngestRefused(Exception):
    """The request as a whole is refused; ``reason`` is the metrics label."""

    def __init__(
        self, status: int, reason: str, message: str, retry_after: int | None = None, extra: dict | None = None
    ):
        super().__init__(message)
        self.status = status
        self.reason = reason
        self.message = message
        self.retry_after = retry_after
        self.extra = extra or {}


@dataclass
class IngestResponse:
    status: int
    body: dict
    headers: dict[str, str] = field(default_factory=dict)


def ingest_handle(header: Callable[[str], str | None], read: Callable[[int], bytes]) -> IngestResponse:
    """Answer one ingest request (never raises for anything a client can send)."""
    started = time.perf_counter()
    try:
        response = IngestResponse(202, _ingest(header, read))
        REQUESTS_ACCEPTED.inc()
    except IngestRefused as refused:
        headers = {"Retry-After": str(refused.retry_after)} if refused.retry_after else {}
        response = IngestResponse(refused.status, {"error": refused.message, **refused.extra}, headers)
        REQUESTS.labels(request_status(refused.status, refused.reason), refused.reason).inc()
        if refused.status >= 500:
            ingest_failure_record()  # availability SLO (issue 11)
    LATENCY.observe(time.perf_counter() - started)
    return response


def _ingest(header: Callable[[str], str | None], read: Callable[[int], bytes]) -> dict:
    if not api_key_valid(presented_api_key(header)):
        raise IngestRefused(401, "unauthorized", "missing or invalid API key (X-API-Key or Authorization: Bearer)")
    try:
        check_content_type(header("Content-Type"))
        raw = decode_body(_read_limited(header, read), header("Content-Encoding"), settings.INGEST_MAX_BODY_BYTES)
        candidates = parse_body(raw)
    except UnsupportedMediaType as exc:
        raise IngestRefused(415, "unsupported_media_type", str(exc)) from None
    except BodyTooLarge as exc:
        raise IngestRefused(413, "too_large", str(exc)) from None
    except BodyError as exc:
        raise IngestRefused(400, "malformed", str(exc)) from None
    limits = Limits(
        settings.INGEST_MAX_EVENTS_PER_REQUEST, settings.INGEST_MAX_MESSAGE_BYTES, settings.INGEST_REQUIRED_FIELDS
    )
    if len(candidates) > limits.max_events:
        raise IngestRefused(413, "too_many_events", f"more than {limits.max_events} events in one request")

    received_at = datetime.now(UTC)  # set once, here, for every event of the request
    received_at_iso = received_at.isoformat()
    accepted: list[str] = []
    encoded: list[bytes] = []
    rejected: list[dict] = []
    for index, candidate in enumerate(candidates):
        try:
            event = normalise_event(candidate, limits, received_at_iso)
            encoded.append(encode_event(event))
        except EventError as exc:
            rejected.append({"index": index, "error": str(exc)})
            continue
        accepted.append(event["correlation_id"])
    if rejected:
        EVENTS_REJECTED.inc(len(rejected))
    if not accepted:
        message = rejected[0]["error"] if len(rejected) == 1 else "no valid event in the request"
        raise IngestRefused(400, "no_valid_event", message, extra={"accepted": 0, "rejected": rejected})

    with log_context(correlation_ids=accepted):  # on the storage warning, and the debug line below
        _store(b"[" + b",".join(encoded) + b"]", len(accepted), received_at)
        if log.isEnabledFor(logging.DEBUG):
            log.debug("ingest: accepted %d events", len(accepted))
    EVENTS_ACCEPTED.inc(len(accepted))
    if len(candidates) == 1 and raw.lstrip()[:1] == b"{":
        return {"status": "accepted", "correlation_id": accepted[0]}
    return {"status": "accepted", "accepted": len(accepted), "rejected": rejected, "correlation_ids": accepted}


def _read_limited(header: Callable[[str], str | None], read: Callable[[int], bytes]) -> bytes:
    """Read at most the body cap (a compressed body may not be larger than the cap either).

    With a Content-Length, read exactly that: asking a server for ``cap + 1``
    bytes can cost a buffer of that size per request.
    """
    limit = settings.INGEST_MAX_BODY_BYTES
    length = (header("Content-Length") or "").strip()
    if length.isdigit():
        if int(length) > limit:
            raise BodyTooLarge(f"body larger than {limit} bytes")
        return read(int(length))
    raw = read(limit + 1)
    if len(raw) > limit:
        raise BodyTooLarge(f"body larger than {limit} bytes")
    return raw


def _store(events_json: bytes, event_count: int, received_at: datetime) -> None:
    """Backpressure check, then the one INSERT; 503 + Retry-After when either cannot be done."""
    retry_after = settings.INGEST_RETRY_AFTER_SECONDS
    try:
        full = batch_store(events_json, event_count, received_at)
    except DbApiError as exc:
        log.warning("ingest: batch not stored (%s: %s); answering 503", type(exc).__name__, str(exc)[:200])
        _connection_drop()
        raise IngestRefused(503, "storage_unavailable", "storage unavailable, retry later", retry_after) from None
    if full:
        raise IngestRefused(503, "backlog_full", "ingest backlog is full, retry later", retry_after)
    # Stored: wake the classifiers (coalesced with the counters, one Redis round trip at most).
    # Inside an outer transaction (tests, scripts) only once it commits.
    transaction.on_commit(lambda: classifiers_wake_and_count(events=event_count, at=received_at.timestamp()))


def batch_store(events_json: bytes, event_count: int, received_at: datetime) -> bool:
    """Store one batch unless the backlog is full (True: full, nothing stored); raises ``DatabaseError``.

    The HTTP front door and the native receivers (``ingest.receiver_store``) both store through here.
    """
    try:
        return _insert_unless_backlog_full(events_json, event_count, received_at)
    except DbApiError as exc:
        if connection.in_atomic_block or not _connection_lost(exc):
            raise
        # A persistent connection goes stale when PostgreSQL restarts or fails over: drop it
        # and try once more on a fresh one (which libpq opens on the writable host). A repeated
        # INSERT is harmless: the batch carries its correlation ids and received_at, and
        # classification inserts audit rows by that key.
        _connection_drop()
        return _insert_unless_backlog_full(events_json, event_count, received_at)


def connection_drop() -> None:
    """Close this thread's database connection (after a failure; the next query opens a fresh one)."""
    _connection_drop()


def _insert_unless_backlog_full(events_json: bytes, event_count: int, received_at: datetime) -> bool:
    """Store the batch unless the backlog is full; True when it was full (nothing stored)."""
    if backlog_full():
        return True
    batch_accept(events_json=events_json.decode(), event_count=event_count, received_at=received_at)
    return False


# A server that is (or became) a standby refuses the write: "cannot execute INSERT in a
# read-only transaction". The write did not happen; a fresh connection finds the primary.
_READ_ONLY_SQLSTATE = "25006"


def _connection_lost(exc: DbApiError) -> bool:
    if isinstance(exc, (OperationalError, InterfaceError)):
        return True
    cause = exc.__cause__
    return (getattr(cause, "pgcode", None) or getattr(cause, "sqlstate", None)) == _READ_ONLY_SQLSTATE


def _connection_drop() -> None:
    if connection.in_atomic_block:
        return
    try:
        connection.close()
    except DbApiError:
        pass  # closing a dead connection may fail; it is gone either way
