"""Moogsoft payload mapping: pure, no Django or I/O.

Moogsoft severity is 0-5 (0 Clear, 1 Indeterminate, 2 Warning, 3 Minor,
4 Major, 5 Critical). Syslog severity is mapped, never passed through:
sending syslog 0 (emergency) as Moogsoft 0 would *clear* the alert.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime

DEFAULT_SEVERITY_MAP: tuple[int, ...] = (5, 5, 4, 3, 2, 1, 1, 1)


def moog_severity(syslog_severity: int | None, severity_map: Sequence[int], default: int) -> int:
    if syslog_severity is None or not 0 <= int(syslog_severity) <= 7:
        return default
    return severity_map[int(syslog_severity)]


def alert_signature(hostname: str, rule_id: int | None, trap_oid: str | None) -> str:
    """Stable dedup key: repeats of one condition fold into one Moogsoft alert."""
    return f"{hostname}:{rule_id if rule_id is not None else 'none'}:{trap_oid or 'syslog'}"


def epoch_seconds(timestamp: str) -> int:
    return int(datetime.fromisoformat(timestamp.replace("Z", "+00:00")).timestamp())


def moog_payload(alert: dict, severity_map: Sequence[int] = DEFAULT_SEVERITY_MAP, default_severity: int = 2) -> dict:
    """Map an outbox alert (see ``alerts.services._alert_payload``) to the Moogsoft webhook body."""
    trap_oid = alert.get("trap_oid")
    return {
        "signature": alert.get("signature") or alert_signature(alert["hostname"], alert.get("rule_id"), trap_oid),
        "source": alert["hostname"],
        "external_id": str(alert["correlation_id"]),
        "severity": moog_severity(alert.get("syslog_severity"), severity_map, default_severity),
        "type": trap_oid or alert.get("type") or "syslog",
        "manager": "MUTT",
        "class": alert.get("team") or "",
        "description": alert["message"],
        "agent_time": epoch_seconds(alert["timestamp"]),
        "handling": alert.get("handling"),
        "rule_id": alert.get("rule_id"),
    }


def moog_batch_body(payloads: list[dict]) -> bytes:
    """Several mapped alerts in one request, the REST LAM's multi-event form, encoded.

    Encoded by the caller before it waits for its rate slot, so the request
    leaves right after the slot is recorded (a 100-event body takes ~1 ms).
    """
    return json.dumps({"events": payloads}, separators=(",", ":")).encode()
