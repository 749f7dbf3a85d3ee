"""Syslog messages (RFC 5424 and RFC 3164) to MUTT events: pure, no Django, sockets or I/O.

``syslog_event(data, peer, now)`` reads one message, whatever a device sends,
and never raises: what cannot be read is kept as text and named in the
returned ``anomalies`` (the receiver counts and logs them).

The rules (docs/receivers.md says them to operators):

- PRI ``<0>`` … ``<191>`` gives facility and severity. A missing or invalid
  PRI means user.notice (13) and the whole datagram is the message
  (RFC 3164 section 4.3.3), with the anomaly ``invalid_pri``.
- ``<PRI>1 `` starts RFC 5424: timestamp, hostname, app-name, procid, msgid,
  structured data (kept as ``{sd-id: {param: value}}``), message (a UTF-8
  BOM is dropped). Anything else is RFC 3164: ``Mmm dd hh:mm:ss`` (or an
  RFC 3339 timestamp, as rsyslog forwards), hostname, ``tag[pid]:`` message.
- A timestamp without a year takes the year that puts it closest to the
  receive time (a December message read in January is last year's); one
  without a zone is read in ``default_zone`` (UTC unless configured). No
  timestamp, or an unreadable one, means the receive time.
- No hostname in the message (``-``, or a 3164 message without one) means
  the peer's address.
- Bytes that are not UTF-8 are replaced (U+FFFD), never refused; NUL too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo

FACILITIES = (
    "kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news", "uucp", "cron", "authpriv", "ftp",
    "ntp", "security", "console", "solaris-cron", "local0", "local1", "local2", "local3", "local4", "local5",
    "local6", "local7",
)  # fmt: skip
DEFAULT_PRI = 13  # user.notice
MAX_HOSTNAME = 255
NIL = "-"

_PRI_RE = re.compile(rb"<(0|[1-9][0-9]{0,2})>")
_MONTHS = {
    m: i for i, m in enumerate(("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), 1)
}
_BSD_TS_RE = re.compile(r"([A-Z][a-z]{2}) {1,2}([0-9]{1,2}) ([0-9]{2}):([0-9]{2}):([0-9]{2})(\.[0-9]{1,6})?(?: |$)")
_ISO_TS_RE = re.compile(
    r"([0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]{1,9})?(?:Z|[+-][0-9]{2}:[0-9]{2})?)(?: |$)"
)
_HOST_RE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.:%-]*")
_TAG_RE = re.compile(r"([^\s:\[\]]{1,48})(?:\[([^\]\s]{1,32})\])?: ?")
_SD_NAME_RE = re.compile(r"[^= \]\"]{1,32}")
_VERSION_RE = re.compile(r"[1-9][0-9]{0,2} ")


@dataclass
class Parsed:
    """One syslog message as a MUTT event (``event``) and what was wrong with it (``anomalies``)."""

    event: dict
    anomalies: list[str] = field(default_factory=list)


def _text(data: bytes) -> str:
    return data.decode("utf-8", "replace").replace("\x00", "\ufffd")


def _pri(data: bytes) -> tuple[int | None, bytes]:
    match = _PRI_RE.match(data)
    if match is None or int(match.group(1)) > 191:
        return None, data
    return int(match.group(1)), data[match.end() :]


def _with_year(month: int, day: int, clock: tuple[int, int, int, int], now: datetime, zone: tzinfo) -> datetime:
    """The candidate in last, this or next year closest to ``now`` (Feb 29 only where it exists)."""
    hour, minute, second, micro = clock
    best: datetime | None = None
    for year in (now.year - 1, now.year, now.year + 1):
        try:
            candidate = datetime(year, month, day, hour, minute, second, micro, tzinfo=zone)
        except ValueError:
            continue
        if best is None or abs(candidate - now) < abs(best - now):
            best = candidate
    if best is None:
        raise ValueError("no such day")
    return best


def _iso(text: str, zone: tzinfo) -> datetime:
    if "." in text:  # Python reads at most 6 fractional digits
        head, _, tail = text.partition(".")
        digits = re.match(r"[0-9]*", tail).group(0)  # type: ignore[union-attr]
        text = f"{head}.{digits[:6].ljust(6, '0')}{tail[len(digits) :]}"
    parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=zone)


def _sd_value(text: str, start: int) -> tuple[str, int]:
    """A quoted PARAM-VALUE from ``text[start]`` (the opening quote); returns it and the index after."""
    out = []
    i = start + 1
    while i < len(text):
        char = text[i]
        if char == "\\" and i + 1 < len(text) and text[i + 1] in '"\\]':
            out.append(text[i + 1])
            i += 2
            continue
        if char == '"':
            return "".join(out), i + 1
        out.append(char)
        i += 1
    raise ValueError("unterminated value")


def _structured_data(text: str) -> tuple[dict[str, dict[str, str]], str]:
    """RFC 5424 STRUCTURED-DATA at the start of ``text``; returns it and the rest (the MSG)."""
    if text.startswith(NIL):
        return {}, text[2:] if text[1:2] == " " else text[1:]
    elements: dict[str, dict[str, str]] = {}
    i = 0
    while i < len(text) and text[i] == "[":
        match = _SD_NAME_RE.match(text, i + 1)
        if match is None:
            raise ValueError("bad SD-ID")
        params: dict[str, str] = {}
        i = match.end()
        while i < len(text) and text[i] == " ":
            name = _SD_NAME_RE.match(text, i + 1)
            if name is None or text[name.end() : name.end() + 2] != '="':
                raise ValueError("bad SD-PARAM")
            params[name.group(0)], i = _sd_value(text, name.end() + 1)
        if i >= len(text) or text[i] != "]":
            raise ValueError("unterminated SD-ELEMENT")
        elements.setdefault(match.group(0), {}).update(params)
        i += 1
    if not elements:
        raise ValueError("no structured data")
    return elements, text[i + 1 :] if text[i : i + 1] == " " else text[i:]


def _rfc5424(rest: str, parsed: Parsed, now: datetime, zone: tzinfo) -> dict:
    fields = rest.split(" ", 5)
    if len(fields) < 6:
        fields += [NIL] * (6 - len(fields))
    _version, stamp, host, app, procid, tail = fields
    out: dict = {"syslog_format": "rfc5424"}
    if stamp != NIL:
        try:
            out["timestamp"] = _iso(stamp, zone)
        except ValueError:
            parsed.anomalies.append("invalid_timestamp")
    if host != NIL:
        out["hostname"] = host
    if app != NIL:
        out["program"] = app
    if procid != NIL:
        out["procid"] = procid
    msgid, _, tail = tail.partition(" ")
    if msgid and msgid != NIL:
        out["msgid"] = msgid
    try:
        sd, message = _structured_data(tail)
    except ValueError:
        parsed.anomalies.append("invalid_structured_data")
        sd, message = {}, tail
    if sd:
        out["structured_data"] = sd
    out["message"] = message.removeprefix("\ufeff")
    return out


def _rfc3164(rest: str, parsed: Parsed, now: datetime, zone: tzinfo) -> dict:
    out: dict = {"syslog_format": "rfc3164"}
    body = rest
    bsd = _BSD_TS_RE.match(body)
    iso = None if bsd else _ISO_TS_RE.match(body)
    if bsd:
        month = _MONTHS.get(bsd.group(1))
        micro = int((bsd.group(6) or ".0")[1:].ljust(6, "0"))
        clock = (int(bsd.group(3)), int(bsd.group(4)), int(bsd.group(5)), micro)
        try:
            if month is None:
                raise ValueError("month")
            out["timestamp"] = _with_year(month, int(bsd.group(2)), clock, now, zone)
        except ValueError:
            parsed.anomalies.append("invalid_timestamp")
        body = body[bsd.end() :]
    elif iso:
        try:
            out["timestamp"] = _iso(iso.group(1), zone)
        except ValueError:
            parsed.anomalies.append("invalid_timestamp")
        body = body[iso.end() :]
    if bsd or iso:
        # After a timestamp comes the hostname, unless the next word is already the tag ("sshd[12]:").
        word, sep, after = body.partition(" ")
        if sep and _HOST_RE.fullmatch(word) and not word.endswith(":"):
            out["hostname"] = word
            body = after
    tag = _TAG_RE.match(body)
    if tag:
        out["program"] = tag.group(1)
        if tag.group(2):
            out["procid"] = tag.group(2)
        body = body[tag.end() :]
    out["message"] = body
    return out


def syslog_event(
    data: bytes, peer: str, now: datetime, *, default_zone: tzinfo = UTC, transport: str = "udp"
) -> Parsed:
    """One syslog message (one datagram or one TCP frame) as a MUTT event; never raises.

    The event has the fields the HTTP path's senders send (hostname, message,
    timestamp, syslog_severity, facility, program) and what else the message
    carried; ``ingest.parsing.normalise_event`` then validates it like any other.
    """
    parsed = Parsed(event={})
    if b"\x00" in data:
        parsed.anomalies.append("nul_bytes")
    text = data.decode("utf-8", "replace")
    if "\ufffd" in text and b"\xef\xbf\xbd" not in data:
        parsed.anomalies.append("invalid_utf8")
    pri, rest_bytes = _pri(data)
    has_pri = pri is not None
    if pri is None:
        parsed.anomalies.append("invalid_pri")
        pri = DEFAULT_PRI
    rest = (_text(rest_bytes) if has_pri else text.replace("\x00", "\ufffd")).rstrip("\r\n")
    try:
        if has_pri and _VERSION_RE.match(rest):
            fields = _rfc5424(rest, parsed, now, default_zone)
        elif has_pri:
            fields = _rfc3164(rest, parsed, now, default_zone)
        else:
            fields = {"syslog_format": "unknown", "message": rest}
    except Exception:  # a parser bug must not lose the message: keep it whole  # pragma: no cover
        parsed.anomalies.append("unparsed")
        fields = {"syslog_format": "unknown", "message": rest}
    stamp = fields.pop("timestamp", None)
    hostname = str(fields.pop("hostname", "") or "").strip()
    if not hostname or len(hostname) > MAX_HOSTNAME:
        hostname = peer
    message = fields.pop("message", "")
    if not message.strip():
        parsed.anomalies.append("empty_message")
        message = "(empty message)"
    try:
        stamp_text = (stamp if stamp is not None else now).astimezone(UTC).isoformat()
    except (OverflowError, ValueError):
        parsed.anomalies.append("invalid_timestamp")
        stamp_text = now.astimezone(UTC).isoformat()
    parsed.event = {
        "timestamp": stamp_text,
        "hostname": hostname,
        "message": message,
        "syslog_severity": pri & 7,
        "facility": FACILITIES[pri >> 3],
        "source": "syslog",
        "peer_address": peer,
        "transport": transport,
        **fields,
    }
    return parsed


def zone_named(name: str) -> tzinfo:
    """The zone for timestamps without one: ``UTC``, an IANA name, or a fixed offset ``+02:00``."""
    if not name or name.upper() == "UTC":
        return UTC
    offset = re.fullmatch(r"([+-])([0-9]{2}):([0-9]{2})", name)
    if offset:
        sign = 1 if offset.group(1) == "+" else -1
        from datetime import timezone

        return timezone(sign * timedelta(hours=int(offset.group(2)), minutes=int(offset.group(3))))
    from zoneinfo import ZoneInfo

    return ZoneInfo(name)
