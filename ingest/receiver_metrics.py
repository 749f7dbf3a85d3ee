"""Prometheus metrics of the native receivers (syslog UDP/TCP/TLS, SNMP traps and informs).

``transport`` is one of udp, tcp, tls, snmp. ``source`` is the sender's
address, up to ``RECEIVER_METRICS_MAX_SOURCES`` distinct ones per process
(later ones count as ``other``), so a scan cannot blow up the series count.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

DROPPED = Counter(
    "mutt_ingest_dropped_total",
    "Messages a receiver read but did not store (reason: backlog_full, too_large, not_allowed, invalid, ...)",
    ["transport", "reason"],
)
RECEIVED = Counter(
    "mutt_receiver_messages_total", "Messages stored by a receiver, per transport and sender", ["transport", "source"]
)
MALFORMED = Counter(
    "mutt_receiver_malformed_total",
    "Messages stored with a defect (invalid_pri, invalid_utf8, invalid_timestamp, ...) or framing errors",
    ["transport", "reason"],
)
CONNECTIONS = Gauge(
    "mutt_receiver_connections", "Open syslog TCP/TLS connections", ["transport"], multiprocess_mode="livesum"
)
CONNECTIONS_CLOSED = Counter(
    "mutt_receiver_connections_closed_total",
    "Syslog connections closed by the receiver (idle, limit, framing, tls_handshake, not_allowed)",
    ["transport", "reason"],
)
PENDING = Gauge("mutt_receiver_pending_messages", "Messages read but not yet stored", multiprocess_mode="livesum")
FLUSH = Histogram(
    "mutt_receiver_flush_seconds",
    "One group commit of received messages (one inbox row)",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
)
FLUSH_SIZE = Histogram(
    "mutt_receiver_flush_messages", "Messages per group commit", buckets=(1, 10, 50, 100, 250, 500, 1000, 2500, 5000)
)
STORE_FAILURES = Counter(
    "mutt_receiver_store_retries_total", "Group commits retried (storage_unavailable, backlog_full)", ["reason"]
)
SNMP_REFUSED = Counter(
    "mutt_receiver_snmp_refused_total",
    "SNMP messages refused before reading (pysnmp errors: unknownCommunityName, authenticationFailure, decryptionError, unknownUserName, ...)",
    ["reason"],
)
UDP_RCVBUF_ERRORS = Gauge(
    "mutt_receiver_udp_rcvbuf_errors",
    "The kernel's UdpRcvbufErrors (/proc/net/snmp): datagrams dropped because a socket buffer was full, whole host",
    multiprocess_mode="mostrecent",
)
UP = Gauge("mutt_receiver_up", "1 while a receiver listener is open", ["transport"], multiprocess_mode="max")


class SourceLabels:
    """The ``source`` label: the sender's address, until ``limit`` distinct ones, then ``other``."""

    def __init__(self, limit: int):
        self.limit = limit
        self._seen: set[str] = set()

    def __call__(self, address: str) -> str:
        if address in self._seen:
            return address
        if len(self._seen) >= self.limit:
            return "other"
        self._seen.add(address)
        return address


def udp_rcvbuf_errors(path: str = "/proc/net/snmp") -> int | None:
    """UdpRcvbufErrors from the kernel's SNMP counters (None where there is no such file)."""
    try:
        with open(path) as handle:
            lines = [line.split() for line in handle if line.startswith("Udp:")]
    except OSError:
        return None
    if len(lines) < 2 or "RcvbufErrors" not in lines[0]:
        return None
    return int(lines[1][lines[0].index("RcvbufErrors")])
