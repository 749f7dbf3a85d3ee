"""SNMP traps and informs (v1, v2c, v3) with pysnmp 7, on the receivers' event loop.

- v1/v2c: only the communities in ``SNMP_COMMUNITIES``; v3: the USM users in
  ``SNMP_V3_USERS`` (``user:AUTH:authkey:PRIV:privkey[:engine-id]``), read
  through ``mutt_project.secrets`` (environment, ``NAME_FILE`` or Vault).
- A v1 trap is converted to the SNMPv2 form (RFC 3584) by pysnmp, then made
  into the event ``ingest.snmp_format.trap_event`` describes.
- A trap is queued without waiting (``Committer.offer``; a drop is counted);
  an inform is answered only once its event is committed (``Committer.submit``):
  pysnmp's own notification receiver answers before its callback runs, so
  this one registers with the dispatcher itself and sends the response after
  the durable write.
- A message refused by the security layer (unknown community, wrong digest
  or key, unknown user or engine) is counted (``mutt_receiver_snmp_refused_total``)
  and logged with its sender.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime

from pysnmp.carrier.asyncio.dgram import udp, udp6
from pysnmp.entity import config, engine
from pysnmp.proto import errind, error, rfc3411
from pysnmp.proto.api import v1, v2c
from pysnmp.proto.proxy import rfc2576

from ingest.parsing import EventError, encode_event, normalise_event
from ingest.receiver_metrics import DROPPED, SNMP_REFUSED
from ingest.snmp_format import trap_event

log = logging.getLogger("ingest.receivers")

AUTH = {
    "MD5": config.USM_AUTH_HMAC96_MD5,
    "SHA": config.USM_AUTH_HMAC96_SHA,
    "SHA224": config.USM_AUTH_HMAC128_SHA224,
    "SHA256": config.USM_AUTH_HMAC192_SHA256,
    "SHA384": config.USM_AUTH_HMAC256_SHA384,
    "SHA512": config.USM_AUTH_HMAC384_SHA512,
}
PRIV = {
    "DES": config.USM_PRIV_CBC56_DES,
    "3DES": config.USM_PRIV_CBC168_3DES,
    "AES": config.USM_PRIV_CFB128_AES,
    "AES128": config.USM_PRIV_CFB128_AES,
    "AES192": config.USM_PRIV_CFB192_AES,
    "AES256": config.USM_PRIV_CFB256_AES,
}
_VERSIONS = {0: "v1", 1: "v2c", 3: "v3"}


def v3_user(spec: str) -> dict:
    """``user:AUTH:authkey:PRIV:privkey[:engine-id hex]`` to ``config.add_v3_user`` arguments."""
    parts = spec.split(":")
    if len(parts) not in (5, 6) or parts[1].upper() not in AUTH or parts[3].upper() not in PRIV:
        name = parts[0] if parts else "?"
        raise ValueError(f"SNMP_V3_USERS entry for {name!r} is not user:AUTH:authkey:PRIV:privkey[:engine-id]")
    user = {
        "userName": parts[0],
        "authProtocol": AUTH[parts[1].upper()],
        "authKey": parts[2],
        "privProtocol": PRIV[parts[3].upper()],
        "privKey": parts[4],
    }
    if len(parts) == 6 and parts[5]:
        user["securityEngineId"] = v2c.OctetString(hexValue=parts[5].removeprefix("0x"))
    return user


def _value_text(value) -> str:
    if isinstance(value, v2c.OctetString) and not isinstance(value, v2c.IpAddress):
        raw = bytes(value)
        try:
            text = raw.decode("utf-8")
            if text.isprintable():
                return text
        except UnicodeDecodeError:
            pass
        return " ".join(f"{b:02X}" for b in raw)  # as net-snmp prints a Hex-STRING
    if isinstance(value, v2c.ObjectIdentifier):
        return ".".join(str(arc) for arc in value)
    if isinstance(value, (v2c.Integer, v2c.Integer32, v2c.Unsigned32, v2c.Counter32, v2c.Counter64, v2c.TimeTicks)):
        return str(int(value))
    return value.prettyPrint()


class SnmpReceiver:
    def __init__(self, ctx, communities: list[str] | None = None, users: list[str] | None = None):
        from django.conf import settings

        self.ctx = ctx
        self.engine = engine.SnmpEngine()
        self.communities = settings.SNMP_COMMUNITIES if communities is None else communities
        self.users = settings.SNMP_V3_USERS if users is None else users
        self._community = ""
        self._tasks: set[asyncio.Task] = set()

    def start(self, host: str, port: int) -> None:
        eng = self.engine
        transport = (udp6.Udp6AsyncioTransport() if ":" in host else udp.UdpAsyncioTransport()).open_server_mode(
            (host, port)
        )
        config.add_transport(eng, udp6.DOMAIN_NAME if ":" in host else udp.DOMAIN_NAME, transport)
        for index, community in enumerate(self.communities):
            config.add_v1_system(eng, f"mutt-community-{index}", community)
        for spec in self.users:
            user = v3_user(spec)
            if "securityEngineId" in user:  # traps: keys localised to the sender's engine
                config.add_v3_user(eng, **user)
                del user["securityEngineId"]
            config.add_v3_user(eng, **user)  # informs: to this receiver's own engine (discovered by the sender)
        eng.observer.register_observer(
            self._security_refused,
            "rfc3412.prepareDataElements:sm-failure",
            "rfc2576.prepareDataElements:sm-failure",
        )
        eng.observer.register_observer(self._community_seen, "rfc2576.processIncomingMsg")
        eng.message_dispatcher.register_context_engine_id(
            b"", (v1.TrapPDU.tagSet, v2c.SNMPv2TrapPDU.tagSet, v2c.InformRequestPDU.tagSet), self._pdu
        )
        eng.transport_dispatcher.job_started(1)  # keep the dispatcher serving

    def close(self) -> None:
        self.engine.transport_dispatcher.close_dispatcher()

    def _community_seen(self, _engine, _point, variables, _ctx) -> None:
        self._community = variables.get("communityName", "")

    def _security_refused(self, _engine, _point, variables, _ctx) -> None:
        status = variables.get("statusInformation") or {}
        indication = status.get("errorIndication") if hasattr(status, "get") else None
        reason = type(indication).__name__ if indication is not None else "unknown"
        reason = reason[0].lower() + reason[1:] if reason else "unknown"
        address = variables.get("transportAddress")
        peer = str(address[0]) if address else "?"
        if isinstance(indication, errind.UnknownEngineID) and variables.get("securityLevel") == 1:
            return  # engine-id discovery (an inform sender's first probe): part of the protocol, not a refusal
        SNMP_REFUSED.labels(reason).inc()
        DROPPED.labels("snmp", "refused").inc()
        self.ctx.warn("snmp:" + reason, peer, "snmp message from %s refused: %s", peer, reason)

    def _pdu(
        self,
        snmp_engine,
        mp_model,
        security_model,
        security_name,
        security_level,
        context_engine_id,
        context_name,
        pdu_version,
        pdu,
        max_size,
        state_reference,
    ) -> None:
        _domain, address = snmp_engine.message_dispatcher.get_transport_info(state_reference)
        peer = str(address[0])
        original = pdu
        if mp_model == 0:
            pdu = rfc2576.v1_to_v2(pdu, snmpTrapCommunity=self._community)
        varbinds = [(".".join(str(a) for a in oid), _value_text(value)) for oid, value in v2c.apiPDU.get_varbinds(pdu)]
        inform = pdu.tagSet in rfc3411.CONFIRMED_CLASS_PDUS
        ctx = self.ctx
        now = datetime.now(UTC)
        if not ctx.allowed(peer):
            DROPPED.labels("snmp", "not_allowed").inc()
            ctx.warn("not_allowed", peer, "snmp from %s: not in RECEIVER_ALLOWED_NETWORKS", peer)
            return
        event = trap_event(varbinds, peer, now, version=_VERSIONS.get(mp_model, str(mp_model)), inform=inform)
        try:
            encoded = encode_event(normalise_event(event, ctx.limits, now.isoformat()))
        except EventError as exc:
            DROPPED.labels("snmp", "invalid").inc()
            ctx.warn("invalid", peer, "snmp from %s not storable: %s", peer, exc)
            return
        if not inform:
            if ctx.committer.offer(encoded, now):
                ctx.counted("snmp", peer, 1)
            else:
                DROPPED.labels("snmp", "backlog_full").inc()
                ctx.warn(
                    "backlog_full", "snmp", "snmp trap from %s dropped: %d messages wait", peer, ctx.committer.pending
                )
            return
        response = v2c.apiPDU.get_response(pdu)
        v2c.apiPDU.set_error_status(response, "noError")
        v2c.apiPDU.set_error_index(response, 0)
        v2c.apiPDU.set_varbinds(response, v2c.apiPDU.get_varbinds(pdu))
        if mp_model == 0:
            response = rfc2576.v2_to_v1(response, original)
        answer = (
            snmp_engine, mp_model, security_model, security_name, security_level,
            context_engine_id, context_name, pdu_version, response, max_size, state_reference,
        )  # fmt: skip
        task = asyncio.get_running_loop().create_task(self._inform(encoded, now, peer, answer))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _inform(self, encoded: bytes, now: datetime, peer: str, answer: tuple) -> None:
        await self.ctx.committer.submit([encoded], now)  # durable first
        self.ctx.counted("snmp", peer, 1)
        snmp_engine = answer[0]
        try:
            snmp_engine.message_dispatcher.return_response_pdu(*answer, {})
        except error.StatusInformation as exc:
            log.warning("receiver: snmp inform from %s stored, but its acknowledgement failed: %s", peer, exc)
