"""Parsing and validating ingest bodies: pure, no Django, Redis or I/O.

``parse_body(raw, content_type)`` -> list of candidate events (dicts) or a
``BodyError``; ``normalise_event(obj, limits)`` -> a normalised event dict or
an ``EventError`` with the reason. A batch is judged event by event.
"""

from __future__ import annotations

import os
import re
import time
import uuid
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime

import orjson

SEVERITY_NAMES = {
    "emerg": 0, "emergency": 0, "panic": 0,
    "alert": 1,
    "crit": 2, "critical": 2,
    "err": 3, "error": 3,
    "warning": 4, "warn": 4,
    "notice": 5,
    "info": 6, "informational": 6,
    "debug": 7,
}  # fmt: skip
OID_RE = re.compile(r"^\.?[0-9]+(\.[0-9]+)+$")
MAX_HOSTNAME = 255


class BodyError(Exception):
    """Nothing in the body is usable (400)."""


class BodyTooLarge(Exception):
    """The (decompressed) body is over the configured cap (413)."""


class UnsupportedMediaType(Exception):
    """A content type or encoding ingest does not read (415)."""


# What senders put in Content-Type: JSON and NDJSON in their usual spellings,
# text/plain (curl, some syslog-ng setups) read as NDJSON, and the Kafka REST
# types rsyslog omhttp may announce with batch.format="kafkarest".
_JSON_TYPES = frozenset({
    "", "application/json", "application/x-ndjson", "application/ndjson", "application/jsonlines",
    "application/x-jsonlines", "application/json-seq", "text/plain",
})  # fmt: skip
_KAFKA_TYPE_RE = re.compile(r"^application/vnd\.kafka(\.[a-z0-9]+)*(\.v[0-9]+)?\+json$")


def check_content_type(content_type: str | None) -> None:
    """Raise ``UnsupportedMediaType`` unless the body is JSON, NDJSON or plain text."""
    media = (content_type or "").split(";", 1)[0].strip().lower()
    if media not in _JSON_TYPES and not _KAFKA_TYPE_RE.match(media):
        raise UnsupportedMediaType(
            f"unsupported content type {media[:60]!r}: send application/json or application/x-ndjson"
        )


def decode_body(raw: bytes, content_encoding: str | None, limit: int) -> bytes:
    """Undo ``Content-Encoding`` (identity or gzip), never producing more than ``limit`` bytes.

    The cap applies to the decompressed size, so a small zip bomb is refused
    after ``limit`` bytes of work rather than inflated in memory.
    """
    encoding = (content_encoding or "identity").strip().lower()
    if encoding in ("", "identity"):
        if len(raw) > limit:
            raise BodyTooLarge(f"body larger than {limit} bytes")
        return raw
    if encoding not in ("gzip", "x-gzip", "deflate"):
        raise UnsupportedMediaType(f"unsupported content encoding {encoding[:40]!r}: send gzip or identity")
    # wbits 47 reads gzip and zlib headers alike (deflate senders mostly send zlib).
    inflater = zlib.decompressobj(wbits=47)
    out = bytearray()
    data = raw
    try:
        while data:
            out += inflater.decompress(data, limit + 1 - len(out))
            if len(out) > limit:
                raise BodyTooLarge(f"decompressed body larger than {limit} bytes")
            data = inflater.unconsumed_tail
            if inflater.eof and inflater.unused_data:
                # Concatenated gzip members (gzip allows them): start the next one.
                data = inflater.unused_data
                inflater = zlib.decompressobj(wbits=47)
        if not inflater.eof:
            raise BodyError(f"truncated {encoding} body")
    except zlib.error:
        raise BodyError(f"body is not valid {encoding}") from None
    return bytes(out)


class EventError(Exception):
    """This one event is refused; the reason is reported by its index."""


# Field -> the names an event may give it under (hostname and message are always required).
FIELD_NAMES = {
    "hostname": ("hostname", "host"),
    "message": ("message", "msg"),
    "severity": ("syslog_severity", "severity"),
}


_ALWAYS_REQUIRED = frozenset({"timestamp", "hostname", "message"})


@dataclass(frozen=True)
class Limits:
    max_events: int = 5000
    max_message_bytes: int = 64 * 1024
    required: tuple[str, ...] = ()  # more fields every event must carry (INGEST_REQUIRED_FIELDS)


def parse_body(raw: bytes) -> list:
    """JSON object, JSON array, or newline-delimited JSON (blank lines ignored)."""
    stripped = raw.strip()
    if not stripped:
        raise BodyError("empty body")
    if stripped[:1] in (b"{", b"["):
        try:
            doc = orjson.loads(stripped)
        except orjson.JSONDecodeError:
            doc = None  # maybe NDJSON: several objects, one per line
        if doc is not None:
            if isinstance(doc, list):
                return doc
            if isinstance(doc, dict):
                records = doc.get("records")
                if isinstance(records, list) and "message" not in doc and "msg" not in doc:
                    # rsyslog omhttp kafkarest: {"records":[{"value":{...}}]}
                    return [r.get("value") if isinstance(r, dict) else r for r in records]
                return [doc]
            raise BodyError("body must be a JSON object, a JSON array, or NDJSON")
    events: list = []
    for number, line in enumerate(stripped.split(b"\n"), start=1):
        line = line.strip()
        if not line:
            continue
        try:
            events.append(orjson.loads(line))
        except orjson.JSONDecodeError:
            events.append(_Unparseable(number))
    if events and all(isinstance(e, _Unparseable) for e in events):
        raise BodyError("malformed JSON")
    return events


@dataclass(frozen=True)
class _Unparseable:
    line: int


def _parse_timestamp(value) -> datetime:
    if isinstance(value, bool):
        raise EventError("timestamp must be ISO 8601 or epoch seconds")
    if isinstance(value, (int, float)):
        try:
            return datetime.fromtimestamp(float(value), tz=UTC)
        except (OverflowError, OSError, ValueError):
            raise EventError("timestamp out of range") from None
    if not isinstance(value, str) or not value.strip():
        raise EventError("timestamp is required (ISO 8601)")
    text = value.strip()
    if text.isascii() and text.replace(".", "", 1).isdigit():  # epoch seconds sent as a string
        return _parse_timestamp(float(text))
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise EventError(f"timestamp {text[:40]!r} is not ISO 8601") from None
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    try:
        return parsed.astimezone(UTC)
    except OverflowError:
        raise EventError("timestamp out of range") from None


def _parse_severity(value) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise EventError("syslog_severity must be 0-7 or a name (emerg … debug)")
    if isinstance(value, str):
        name = value.strip().lower()
        if name in SEVERITY_NAMES:
            return SEVERITY_NAMES[name]
        if name.isdigit():
            value = int(name)
        else:
            raise EventError(f"syslog_severity {value[:20]!r} is not 0-7 or a name (emerg … debug)")
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if not isinstance(value, int) or not 0 <= value <= 7:
        raise EventError("syslog_severity must be between 0 and 7")
    return value


def _first(obj: dict, *names):
    for name in names:
        if name in obj and obj[name] is not None:
            return obj[name]
    return None


def _uuid7() -> str:
    """A time-ordered (version 7, RFC 9562) UUID as text: 48 bits of Unix milliseconds, 74 random bits.

    Ids made later sort later, so the audit log's unique (correlation_id,
    received_at) index is appended to at its right edge instead of being
    written all over: pages split full (~10 bytes a row less than random ids)
    and the pages a claim writes stay in cache. Built by hand: ``str(uuid.uuid4())``
    already cost several times more per event.
    """
    raw = bytearray((time.time_ns() // 1_000_000).to_bytes(6, "big") + os.urandom(10))
    raw[6] = (raw[6] & 0x0F) | 0x70
    raw[8] = (raw[8] & 0x3F) | 0x80
    h = raw.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def normalise_event(obj, limits: Limits, received_at: str) -> dict:
    """Validate one candidate and return the normalised event (raw fields kept).

    ``received_at`` is the request's arrival time in ISO 8601, the same for
    every event of the request.
    """
    if isinstance(obj, _Unparseable):
        raise EventError(f"line {obj.line} is not valid JSON")
    if not isinstance(obj, dict):
        raise EventError("event must be a JSON object")
    hostname = _first(obj, "hostname", "host")
    if not isinstance(hostname, str) or not hostname.strip():
        raise EventError("hostname is required")
    hostname = hostname.strip().lower()
    if len(hostname) > MAX_HOSTNAME:
        raise EventError(f"hostname longer than {MAX_HOSTNAME} characters")
    message = _first(obj, "message", "msg")
    if not isinstance(message, str) or not message.strip():
        raise EventError("message is required and must be a non-empty string")
    if "\x00" in message:
        message = message.replace("\x00", "\ufffd")  # PostgreSQL text cannot hold NUL
    # A character is at most 4 bytes in UTF-8: only a long message needs encoding to be measured.
    if len(message) * 4 > limits.max_message_bytes and (
        len(message.encode("utf-8", "surrogatepass")) > limits.max_message_bytes
    ):
        raise EventError(f"message longer than {limits.max_message_bytes} bytes")
    timestamp = _parse_timestamp(obj.get("timestamp"))
    severity = _parse_severity(_first(obj, "syslog_severity", "severity"))
    trap_oid = obj.get("trap_oid")
    if trap_oid is not None and trap_oid != "":
        if not isinstance(trap_oid, str) or not OID_RE.match(trap_oid.strip()):
            raise EventError("trap_oid must be a dotted numeric OID")
        trap_oid = trap_oid.strip().lstrip(".")
    else:
        trap_oid = None
    source = obj.get("source")
    if source is None or source == "":
        source = "snmp" if trap_oid else "syslog"
    elif source not in ("syslog", "snmp"):
        raise EventError("source must be 'syslog' or 'snmp'")
    cid = obj.get("correlation_id")
    if cid is None or cid == "":
        correlation_id = _uuid7()
    else:
        try:
            correlation_id = str(uuid.UUID(str(cid)))
        except ValueError:
            raise EventError("correlation_id must be a UUID") from None
    for required in limits.required:  # beyond timestamp, hostname and message (checked above, always)
        if required not in _ALWAYS_REQUIRED:
            value = _first(obj, *FIELD_NAMES.get(required, (required,)))
            if value is None or value == "":
                raise EventError(f"{required} is required")
    event = {k: v for k, v in obj.items() if k not in ("host", "msg", "severity")}
    event.update(
        timestamp=timestamp.isoformat(),
        hostname=hostname,
        message=message,
        syslog_severity=severity,
        trap_oid=trap_oid,
        source=source,
        correlation_id=correlation_id,
        received_at=received_at,
    )
    return event


def _scrub_nul(value):
    if isinstance(value, str):
        return value.replace("\x00", "\ufffd")
    if isinstance(value, dict):
        return {_scrub_nul(k): _scrub_nul(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_scrub_nul(v) for v in value]
    return value


def encode_event(event: dict) -> bytes:
    """One normalised event as JSON that PostgreSQL's jsonb accepts.

    jsonb refuses ``\\u0000`` anywhere, so NUL characters (which JSON may carry
    escaped) become U+FFFD; the check is a byte search, the rewrite is rare.
    Raises ``EventError`` for an event nested too deeply to store.
    """
    try:
        encoded = orjson.dumps(event)
    except orjson.JSONEncodeError:
        raise EventError("event is nested too deeply") from None
    if b"\\u0000" in encoded:
        encoded = orjson.dumps(_scrub_nul(event))
    return encoded
