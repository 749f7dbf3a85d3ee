"""An SNMP notification (SNMPv2 form) to a MUTT event: pure, no sockets or pysnmp engine.

The event has the shape deploy/snmp/mutt-traphandle gives a trap relayed by
snmptrapd (``source=snmp``, ``trap_oid``, ``hostname``, ``agent_address``,
``varbinds`` as ``[{"oid", "value"}]`` with numeric OIDs and no leading dot,
and the same readable ``message``), so rules, ``oid_mappings``, clears and
folding treat a trap alike whichever way it came in.

SNMPv1 traps arrive here already converted to the SNMPv2 form (RFC 3584
section 3.1: snmpTrapOID.0 from enterprise and generic/specific trap,
snmpTrapAddress.0 and snmpTrapEnterprise.0 appended), as snmptrapd also
presents them. snmpTrapCommunity.0 is left out: a community is a password.
"""

from __future__ import annotations

import re
from datetime import datetime

SNMP_TRAP_OID = "1.3.6.1.6.3.1.1.4.1.0"
SYS_UPTIME = "1.3.6.1.2.1.1.3.0"
SNMP_TRAP_COMMUNITY = "1.3.6.1.6.3.18.1.4.0"
_NUMERIC_OID = re.compile(r"[0-9]+(\.[0-9]+)+")


def trap_event(varbinds: list[tuple[str, str]], peer: str, now: datetime, *, version: str, inform: bool) -> dict:
    """``varbinds`` as (dotted OID, value text) pairs; ``peer`` the sender's address."""
    rows = [
        {"oid": oid.lstrip("."), "value": value} for oid, value in varbinds if oid.lstrip(".") != SNMP_TRAP_COMMUNITY
    ]
    trap_oid = next((v["value"].lstrip(".") for v in rows if v["oid"] == SNMP_TRAP_OID), None)
    details = [f"{v['oid']}={v['value']}" for v in rows if v["oid"] not in (SNMP_TRAP_OID, SYS_UPTIME)]
    message = f"SNMP trap {trap_oid or 'unknown'} from {peer}"
    if details:
        message += ": " + "; ".join(details)
    event = {
        "timestamp": now.isoformat(),
        "hostname": peer,
        "message": message,
        "source": "snmp",
        "agent_address": peer,
        "varbinds": rows,
        "snmp_version": version,
        "snmp_pdu": "inform" if inform else "trap",
    }
    if trap_oid and _NUMERIC_OID.fullmatch(trap_oid):
        event["trap_oid"] = trap_oid
    return event
