"""The alert that travels from classification to Moogsoft, and its Moogsoft mapping: pure, no Django or I/O.

``Alert`` is the one shape of an outbox row's payload (and of a forward dead
letter's): classification builds it (``alerts.services.staging``), the
forwarder maps it with ``moog_payload``. Forwarding owns it because
forwarding owns the outbox's behaviour (docs/architecture.md, "Tables").

Moogsoft severity is 0-5 (0 Clear, 1 Indeterminate, 2 Warning, 3 Minor,
4 Major, 5 Critical). Syslog severity is mapped, never passed through:
sending syslog 0 (emergency) as Moogsoft 0 would *clear* the alert.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import NotRequired, TypedDict

DEFAULT_SEVERITY_MAP: tuple[int, ...] = (5, 5, 4, 3, 2, 1, 1, 1)


class Alert(TypedDict):
    """One alert waiting in the outbox (stored as its ``payload`` JSON)."""

    correlation_id: str  # the event's; Moogsoft's external_id
    hostname: str
    message: str
    syslog_severity: int | None  # 0-7, mapped to Moogsoft's 0-5
    trap_oid: str | None  # SNMP traps only
    source: str  # "syslog" or "snmp"
    timestamp: str  # the event's own time, ISO 8601
    received_at: str  # when MUTT accepted it, ISO 8601
    rule_id: int | None  # None: no rule matched (the unhandled meta-alert)
    handling: str
    team: str
    is_dev: bool
    # Alert lifecycle (docs/architecture.md, "Alert lifecycle"); absent in payloads written before it.
    trap_name: NotRequired[str]  # the trap's name from the OID mappings
    enrichment: NotRequired[dict[str, str]]  # lookup tables' fields for the event (site, criticality, …)
    signature: NotRequired[str]  # set by classification; a clear carries the signature it clears
    is_clear: NotRequired[bool]  # sent as Moogsoft severity 0 (Clear)
    clears: NotRequired[str]  # the correlation id of the alert it clears
    repeat_count: NotRequired[int]  # repeats folded into this alert, itself included
    last_seen: NotRequired[str]  # ISO 8601 time of the latest folded repeat


def moog_severity(syslog_severity: int | None, severity_map: Sequence[int], default: int) -> int:
    if syslog_severity is None or not 0 <= int(syslog_severity) <= 7:
        return default
    return severity_map[int(syslog_severity)]


def alert_signature(hostname: str, rule_id: int | None, trap_oid: str | None) -> str:
    """Stable dedup key: repeats of one condition fold into one Moogsoft alert."""
    return f"{hostname}:{rule_id if rule_id is not None else 'none'}:{trap_oid or 'syslog'}"


def epoch_seconds(timestamp: str) -> int:
    return int(datetime.fromisoformat(timestamp.replace("Z", "+00:00")).timestamp())


def moog_payload(
    alert: Alert, severity_map: Sequence[int] = DEFAULT_SEVERITY_MAP, default_severity: int = 2
) -> dict[str, object]:
    """Map an outbox alert to the Moogsoft webhook body (KeyError/TypeError/ValueError: unmappable)."""
    trap_oid = alert["trap_oid"]
    trap_name = alert.get("trap_name")
    body: dict[str, object] = {
        "signature": alert.get("signature") or alert_signature(alert["hostname"], alert["rule_id"], trap_oid),
        "source": alert["hostname"],
        "external_id": str(alert["correlation_id"]),
        "severity": 0
        if alert.get("is_clear")
        else moog_severity(alert["syslog_severity"], severity_map, default_severity),
        "type": trap_name or trap_oid or "syslog",
        "manager": "MUTT",
        "class": alert["team"] or "",
        "description": f"{trap_name}: {alert['message']}" if trap_name else alert["message"],
        "agent_time": epoch_seconds(alert["timestamp"]),
        "handling": alert["handling"],
        "rule_id": alert["rule_id"],
    }
    if "repeat_count" in alert:
        body["repeat_count"] = alert["repeat_count"]
    enrichment = alert.get("enrichment")
    if enrichment:
        body["custom_info"] = dict(enrichment)  # the lookup tables' fields, as Moogsoft's custom_info
    return body


def moog_batch_body(payloads: list[dict]) -> bytes:
    """Several mapped alerts in one request, the REST LAM's multi-event form, encoded.

    Encoded by the caller before it waits for its rate slot, so the request
    leaves right after the slot is recorded (a 100-event body takes ~1 ms).
    """
    return json.dumps({"events": payloads}, separators=(",", ":")).encode()
