"""The native receivers: syslog over UDP, TCP and TLS, SNMP traps and informs, in one asyncio process.

``python manage.py receivers`` (Procfile ``receivers:``). Every message
becomes an event through the same steps as HTTP ingest
(``ingest.parsing.normalise_event``, ``encode_event``) and is stored by one
``ingest.receiver_store.Committer`` (group commit into the inbox, classifiers
woken as for a 202). TCP and TLS connections are read only as fast as they
are stored; UDP datagrams are dropped, and counted, only when
``RECEIVER_MAX_PENDING`` messages already wait. SNMP is in
``ingest.snmp_receiver``. ``/health`` and ``/metrics`` on
``RECEIVER_HEALTH_PORT``.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import signal
import socket
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo

from django.conf import settings

from ingest.parsing import EventError, Limits, encode_event, normalise_event
from ingest.receiver_metrics import (
    CONNECTIONS,
    CONNECTIONS_CLOSED,
    DROPPED,
    MALFORMED,
    RECEIVED,
    UDP_RCVBUF_ERRORS,
    UP,
    SourceLabels,
    udp_rcvbuf_errors,
)
from ingest.receiver_store import Committer
from ingest.syslog_format import syslog_event, zone_named
from ingest.syslog_framing import Framer

log = logging.getLogger("ingest.receivers")

_READ_BYTES = 64 * 1024
_HANDSHAKE_SECONDS = 10.0
_LOG_EVERY_SECONDS = 10.0


class Allowed:
    """The source allow-list (CIDR networks)."""

    def __init__(self, networks: list[str]):
        self.networks = [ipaddress.ip_network(n.strip(), strict=False) for n in networks if n.strip()]
        self._memo: dict[str, bool] = {}

    def __call__(self, address: str) -> bool:
        hit = self._memo.get(address)
        if hit is None:
            try:
                ip = ipaddress.ip_address(address.split("%", 1)[0])
            except ValueError:
                return False
            if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
                ip = ip.ipv4_mapped
            hit = any(ip in net for net in self.networks)
            if len(self._memo) > 100_000:
                self._memo.clear()
            self._memo[address] = hit
        return hit


class RateLimitedLog:
    """One warning per (kind, source) per ``_LOG_EVERY_SECONDS``, with how many were suppressed."""

    def __init__(self) -> None:
        self._last: dict[tuple[str, str], tuple[float, int]] = {}

    def __call__(self, kind: str, source: str, message: str, *args) -> None:
        key = (kind, source)
        now = time.monotonic()
        last, suppressed = self._last.get(key, (float("-inf"), 0))
        if now - last < _LOG_EVERY_SECONDS:
            self._last[key] = (last, suppressed + 1)
            return
        if len(self._last) > 10_000:
            self._last.clear()
        self._last[key] = (now, 0)
        extra = f" ({suppressed} more like it not logged)" if suppressed else ""
        log.warning("receiver: " + message + extra, *args)


@dataclass
class Context:
    """What every listener shares."""

    committer: Committer
    allowed: Allowed
    sources: SourceLabels
    zone: tzinfo
    max_bytes: int
    limits: Limits
    warn: RateLimitedLog = field(default_factory=RateLimitedLog)

    def events(self, frames: list[bytes], peer: str, transport: str) -> tuple[list[bytes], datetime]:
        """Frames to encoded events; anomalies counted and logged, unstorable ones dropped (counted)."""
        now = datetime.now(UTC)
        now_iso = now.isoformat()
        out: list[bytes] = []
        for frame in frames:
            parsed = syslog_event(frame, peer, now, default_zone=self.zone, transport=transport)
            for anomaly in parsed.anomalies:
                MALFORMED.labels(transport, anomaly).inc()
                self.warn(anomaly, peer, "%s message from %s (%s): %r", transport, peer, anomaly, frame[:80])
            try:
                out.append(encode_event(normalise_event(parsed.event, self.limits, now_iso)))
            except EventError as exc:
                DROPPED.labels(transport, "invalid").inc()
                self.warn("invalid", peer, "%s message from %s not storable: %s", transport, peer, exc)
        return out, now

    def counted(self, transport: str, peer: str, stored: int) -> None:
        if stored:
            RECEIVED.labels(transport, self.sources(peer)).inc(stored)


# --- UDP ---------------------------------------------------------------------------------------------


class SyslogUDP(asyncio.DatagramProtocol):
    def __init__(self, ctx: Context):
        self.ctx = ctx

    def datagram_received(self, data: bytes, addr) -> None:
        ctx = self.ctx
        peer = addr[0]
        if not ctx.allowed(peer):
            DROPPED.labels("udp", "not_allowed").inc()
            ctx.warn("not_allowed", peer, "udp datagram from %s: not in RECEIVER_ALLOWED_NETWORKS", peer)
            return
        if len(data) > ctx.max_bytes:
            DROPPED.labels("udp", "too_large").inc()
            ctx.warn("too_large", peer, "udp datagram from %s of %d bytes: over the maximum", peer, len(data))
            return
        events, now = ctx.events([data], peer, "udp")
        for event in events:
            if ctx.committer.offer(event, now):
                ctx.counted("udp", peer, 1)
            else:
                DROPPED.labels("udp", "backlog_full").inc()
                ctx.warn(
                    "backlog_full", "udp", "udp datagram from %s dropped: %d messages wait", peer, ctx.committer.pending
                )

    def error_received(self, exc: Exception) -> None:
        log.warning("receiver: udp socket error %s", exc)


# --- TCP and TLS -------------------------------------------------------------------------------------


@dataclass
class _Conn:
    writer: asyncio.StreamWriter
    transport: str
    last_active: float = field(default_factory=time.monotonic)
    busy: bool = False
    evicted: bool = False


class SyslogStream:
    """One TCP or TLS listener: framing per connection, the connection limit, idle closing."""

    def __init__(self, ctx: Context, transport: str, tls: ssl.SSLContext | None, max_connections: int, idle: float):
        self.ctx = ctx
        self.transport = transport
        self.tls = tls
        self.max_connections = max_connections
        self.idle = idle
        self.open: dict[int, _Conn] = {}

    def _make_room(self, peer: str) -> bool:
        """At the limit: close the connection idle longest; False (refuse this one) when all wait for storage."""
        if len(self.open) < self.max_connections:
            return True
        idle = [c for c in self.open.values() if not c.busy]
        if not idle:
            CONNECTIONS_CLOSED.labels(self.transport, "limit_refused").inc()
            self.ctx.warn("limit", self.transport, "%s connection from %s refused: %d open, none idle",
                          self.transport, peer, len(self.open))  # fmt: skip
            return False
        victim = min(idle, key=lambda c: c.last_active)
        CONNECTIONS_CLOSED.labels(self.transport, "limit_idle").inc()
        self.ctx.warn("limit", self.transport, "%s: %d connections open (the limit): closing the one idle longest",
                      self.transport, len(self.open))  # fmt: skip
        victim.evicted = True
        victim.writer.close()
        self.open.pop(id(victim.writer), None)
        return True

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peername = writer.get_extra_info("peername") or ("?", 0)
        peer = str(peername[0])
        ctx = self.ctx
        if not ctx.allowed(peer):
            CONNECTIONS_CLOSED.labels(self.transport, "not_allowed").inc()
            DROPPED.labels(self.transport, "not_allowed").inc()
            ctx.warn(
                "not_allowed", peer, "%s connection from %s: not in RECEIVER_ALLOWED_NETWORKS", self.transport, peer
            )
            writer.close()
            return
        if not self._make_room(peer):
            writer.close()
            return
        conn = _Conn(writer, self.transport)
        self.open[id(writer)] = conn
        CONNECTIONS.labels(self.transport).inc()
        try:
            if self.tls is not None:
                try:
                    await writer.start_tls(self.tls, ssl_handshake_timeout=_HANDSHAKE_SECONDS)
                except (ssl.SSLError, OSError, TimeoutError, ConnectionError) as exc:
                    CONNECTIONS_CLOSED.labels(self.transport, "tls_handshake").inc()
                    ctx.warn("tls", peer, "tls handshake with %s failed: %s", peer, str(exc)[:200])
                    return
            await self._read(reader, conn, peer)
        except (ConnectionError, OSError) as exc:
            log.info("receiver: %s connection from %s ended: %s", self.transport, peer, exc)
        finally:
            self.open.pop(id(writer), None)
            CONNECTIONS.labels(self.transport).dec()
            writer.close()

    async def _read(self, reader: asyncio.StreamReader, conn: _Conn, peer: str) -> None:
        ctx = self.ctx
        framer = Framer(ctx.max_bytes)
        while True:
            try:
                data = await asyncio.wait_for(reader.read(_READ_BYTES), self.idle)
            except TimeoutError:
                CONNECTIONS_CLOSED.labels(self.transport, "idle").inc()
                log.info("receiver: %s connection from %s idle for %.0f s: closed", self.transport, peer, self.idle)
                return
            if conn.evicted:
                return  # closed for the connection limit while we waited
            conn.last_active = time.monotonic()
            frames, errors = framer.feed(data) if data else framer.close()
            for error in errors:
                MALFORMED.labels(self.transport, error).inc()
                DROPPED.labels(self.transport, error).inc()
                ctx.warn(error, peer, "%s from %s: %s%s", self.transport, peer, error,
                         ", connection closed" if framer.fatal else "")  # fmt: skip
            if frames:
                events, now = ctx.events(frames, peer, self.transport)
                conn.busy = True
                try:
                    await ctx.committer.submit(events, now)  # back pressure: nothing more is read until stored
                finally:
                    conn.busy = False
                    conn.last_active = time.monotonic()
                ctx.counted(self.transport, peer, len(events))
            if framer.fatal:
                CONNECTIONS_CLOSED.labels(self.transport, "framing").inc()
                return
            if not data:
                return


def tls_context(cert: str, key: str, client_ca: str) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    # No TLS 1.3 session tickets: a sender that writes and closes without reading them leaves them
    # unread, its kernel answers the close with a reset, and a reset discards what it sent last.
    context.num_tickets = 0
    context.load_cert_chain(cert, key)
    if client_ca:
        context.load_verify_locations(cafile=client_ca)
        context.verify_mode = ssl.CERT_REQUIRED
    return context


# --- health and metrics ----------------------------------------------------------------------------


async def _health(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, state: Callable[[], dict]) -> None:
    import orjson
    from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest

    try:
        request = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
        path = request.split(b" ", 2)[1].decode("latin-1") if request.count(b" ") >= 2 else "/"
        if path.startswith("/metrics"):
            status, kind, body = 200, CONTENT_TYPE_LATEST, generate_latest(REGISTRY)
        elif path.startswith("/health"):
            current = state()
            status, kind, body = (200 if current["ok"] else 503), "application/json", orjson.dumps(current)
        else:
            status, kind, body = 404, "application/json", b'{"error":"not found"}'
        head = f"HTTP/1.1 {status} {'OK' if status == 200 else 'Error'}\r\nContent-Type: {kind}\r\n"
        writer.write(head.encode() + f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode() + body)
        await writer.drain()
    except (TimeoutError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError, IndexError):
        pass
    finally:
        writer.close()


# --- the process -----------------------------------------------------------------------------------


class Receivers:
    def __init__(self) -> None:
        self.committer = Committer(
            flush_seconds=settings.RECEIVER_FLUSH_MS / 1000,
            flush_max=settings.RECEIVER_FLUSH_MAX,
            max_pending=settings.RECEIVER_MAX_PENDING,
        )
        self.ctx = Context(
            committer=self.committer,
            allowed=Allowed(settings.RECEIVER_ALLOWED_NETWORKS),
            sources=SourceLabels(settings.RECEIVER_METRICS_MAX_SOURCES),
            zone=zone_named(settings.SYSLOG_DEFAULT_TIMEZONE),
            max_bytes=settings.SYSLOG_MAX_MESSAGE_BYTES,
            limits=Limits(settings.INGEST_MAX_EVENTS_PER_REQUEST, settings.SYSLOG_MAX_MESSAGE_BYTES),
        )
        self.listening: list[str] = []
        self._closers: list[Callable[[], object]] = []
        self.streams: list[SyslogStream] = []

    def state(self) -> dict:
        return {
            # Not ready only when nothing listens: during a database outage the receivers still read
            # (and hold) what devices send, so taking them out of a Service would lose UDP.
            "ok": bool(self.listening),
            "listening": self.listening,
            "storing": self.committer.last_store_ok,
            "pending": self.committer.pending,
            "stored": self.committer.stored_total,
            "connections": sum(len(s.open) for s in self.streams),
        }

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        host = settings.RECEIVER_HOST
        if settings.SYSLOG_UDP_PORT:
            sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_DGRAM)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, settings.SYSLOG_UDP_RCVBUF_BYTES)
            sock.bind((host, settings.SYSLOG_UDP_PORT))
            transport, _ = await loop.create_datagram_endpoint(lambda: SyslogUDP(self.ctx), sock=sock)
            self._closers.append(transport.close)
            self._up("udp", f"syslog udp {host}:{settings.SYSLOG_UDP_PORT}")
        stream_ports = [("tcp", settings.SYSLOG_TCP_PORT, None)]
        if settings.SYSLOG_TLS_PORT:
            if not (settings.SYSLOG_TLS_CERT and settings.SYSLOG_TLS_KEY):
                raise SystemExit("receivers: SYSLOG_TLS_PORT needs SYSLOG_TLS_CERT and SYSLOG_TLS_KEY (or MUTT_TLS_*)")
            context = tls_context(settings.SYSLOG_TLS_CERT, settings.SYSLOG_TLS_KEY, settings.SYSLOG_TLS_CLIENT_CA)
            stream_ports.append(("tls", settings.SYSLOG_TLS_PORT, context))
        for name, port, context in stream_ports:
            if not port:
                continue
            stream = SyslogStream(
                self.ctx, name, context, settings.SYSLOG_TCP_MAX_CONNECTIONS, settings.SYSLOG_TCP_IDLE_SECONDS
            )
            server = await asyncio.start_server(stream.handle, host, port, limit=_READ_BYTES * 2, backlog=1024)
            self.streams.append(stream)
            self._closers.append(server.close)
            self._up(name, f"syslog {name} {host}:{port}")
        if settings.SNMP_TRAP_PORT:
            from ingest.snmp_receiver import SnmpReceiver

            snmp = SnmpReceiver(self.ctx)
            snmp.start(host, settings.SNMP_TRAP_PORT)
            self._closers.append(snmp.close)
            self._up("snmp", f"snmp udp {host}:{settings.SNMP_TRAP_PORT}")
        if settings.RECEIVER_HEALTH_PORT:
            health = await asyncio.start_server(
                lambda r, w: _health(r, w, self.state), settings.RECEIVER_HEALTH_HOST, settings.RECEIVER_HEALTH_PORT
            )
            self._closers.append(health.close)
        log.info("receivers: listening on %s", ", ".join(self.listening) or "nothing")

    def _up(self, transport: str, description: str) -> None:
        self.listening.append(description)
        UP.labels(transport).set(1)

    async def run(self, stop: asyncio.Event) -> None:
        flusher = asyncio.create_task(self.committer.run())
        await self.start()
        while not stop.is_set():
            errors = udp_rcvbuf_errors()
            if errors is not None:
                UDP_RCVBUF_ERRORS.set(errors)
            try:
                await asyncio.wait_for(stop.wait(), 5)
            except TimeoutError:
                pass
        log.info("receivers: stopping; storing %d messages read", self.committer.pending)
        for close in self._closers:
            close()
        for stream in self.streams:
            for conn in list(stream.open.values()):
                conn.writer.close()
        self.committer.close()
        await flusher
        self.committer.shutdown()


def main() -> None:
    async def _run() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        await Receivers().run(stop)

    asyncio.run(_run())
