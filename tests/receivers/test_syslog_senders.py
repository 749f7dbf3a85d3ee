"""Real syslog senders against the receivers process: each message stored once, host, severity and text right."""

from __future__ import annotations

import socket
import subprocess
import uuid

import pytest

from tests.conftest import wait_for
from tests.receivers.conftest import events_with

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def _logger(port: int, *args: str, message: str) -> None:
    subprocess.run(["logger", "-n", "127.0.0.1", "-P", str(port), *args, message], check=True, timeout=30)


@pytest.mark.parametrize(
    ("transport", "framing"),
    [("-d", "--rfc3164"), ("-d", "--rfc5424"), ("-T", "--rfc3164"), ("-T", "--rfc5424"), ("-T", "--octet-count")],
)
def test_logger_udp_and_tcp_rfc3164_and_rfc5424(receiver, transport, framing):
    marker = f"logger-{uuid.uuid4().hex[:12]}"
    port = receiver.ports["udp" if transport == "-d" else "tcp"]
    transport_name = "udp" if transport == "-d" else "tcp"
    counted = receiver.metric("mutt_receiver_messages_total", transport=transport_name, source="127.0.0.1")
    _logger(port, transport, framing, "-p", "local3.err", "-t", "mutt-test", "--id=4242", message=f"{marker} disk full")
    [event] = wait_for(lambda: events_with(marker), timeout=30, message="the logger message stored")
    assert event["message"] == f"{marker} disk full"
    assert (event["syslog_severity"], event["facility"], event["program"]) == (3, "local3", "mutt-test")
    assert event["hostname"] == subprocess.run(["hostname"], capture_output=True, text=True).stdout.strip().lower()
    assert event["transport"] == ("udp" if transport == "-d" else "tcp")
    assert event["syslog_format"] == ("rfc3164" if framing == "--rfc3164" else "rfc5424")
    assert event["procid"] == "4242" and event["source"] == "syslog"
    wait_for(
        lambda: (
            receiver.metric("mutt_receiver_messages_total", transport=transport_name, source="127.0.0.1") == counted + 1
        ),
        message="the message counted once, for its transport and sender",
    )


# --- bad input: counted, logged, never a crash, other connections unaffected -------------------------


def _connect(port: int) -> socket.socket:
    return socket.create_connection(("127.0.0.1", port), timeout=30)


def _closed_by_peer(sock: socket.socket) -> bool:
    try:
        return sock.recv(1) == b""
    except ConnectionResetError:
        return True


def test_bad_input_is_counted_and_logged_and_harms_no_other_sender(receiver):
    port = receiver.ports["tcp"]
    marker = f"bystander-{uuid.uuid4().hex[:10]}"
    bystander = _connect(port)
    bystander.sendall(f"<11>Jan  2 10:00:00 bystander app: {marker} first\n".encode())

    def malformed(reason: str) -> float:
        return receiver.metric("mutt_receiver_malformed_total", transport="tcp", reason=reason)

    before = {r: malformed(r) for r in ("truncated", "octet_count_too_large", "too_large", "invalid_pri")}

    truncated = _connect(port)
    truncated.sendall(b"100 <13>this frame promised 100 bytes")
    truncated.close()
    wait_for(lambda: malformed("truncated") == before["truncated"] + 1, timeout=30, message="truncated counted")

    too_big = _connect(port)
    too_big.sendall(b"99999999 <13>x")
    assert _closed_by_peer(too_big)  # a count above the maximum cannot be skipped safely: closed
    too_big.close()
    assert malformed("octet_count_too_large") == before["octet_count_too_large"] + 1

    garbage_marker = f"after-garbage-{uuid.uuid4().hex[:8]}"
    long_line = _connect(port)
    long_line.sendall(b"<13>" + b"x" * (1024 * 1024) + b"\n")
    long_line.sendall(b"\xff\xfe\x00\x01garbage\x80\x81\n<999>" + garbage_marker.encode() + b" invalid pri\n")
    long_line.close()
    [after] = wait_for(lambda: events_with(garbage_marker), timeout=30, message="the line after the 1 MiB line")
    assert after["message"] == f"<999>{garbage_marker} invalid pri" and after["syslog_severity"] == 5
    assert malformed("too_large") == before["too_large"] + 1
    assert malformed("invalid_pri") >= before["invalid_pri"] + 2  # the garbage line and <999>
    garbage = [e for e in events_with("garbage") if "\ufffd" in e["message"]]
    assert len(garbage) == 1 and garbage[0]["hostname"] == "127.0.0.1"

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
        udp.sendto(bytes(range(256)) * 4, ("127.0.0.1", receiver.ports["udp"]))
    wait_for(
        lambda: receiver.metric("mutt_receiver_malformed_total", transport="udp", reason="invalid_utf8") >= 1,
        timeout=30,
        message="udp garbage counted",
    )

    bystander.sendall(f"<11>Jan  2 10:00:01 bystander app: {marker} second\n".encode())
    events = wait_for(lambda: len(e := events_with(marker)) == 2 and e, timeout=30, message="the bystander's 2 lines")
    assert {e["hostname"] for e in events} == {"bystander"}
    bystander.close()
    log = receiver.log()
    for reason in ("truncated", "octet_count_too_large", "too_large", "invalid_pri"):
        assert f"tcp from 127.0.0.1: {reason}" in log or f"({reason})" in log, reason
    assert receiver.proc.poll() is None and receiver.health()["ok"]


def test_more_idle_connections_than_the_limit_close_the_idlest(receiver):
    port = receiver.ports["tcp"]
    closed = receiver.metric("mutt_receiver_connections_closed_total", transport="tcp", reason="limit_idle")
    idle = [_connect(port) for _ in range(6)]  # the limit in this module's receiver
    wait_for(lambda: receiver.health()["connections"] >= 6, timeout=30, message="6 connections open")
    extra = [_connect(port) for _ in range(3)]
    wait_for(
        lambda: (
            receiver.metric("mutt_receiver_connections_closed_total", transport="tcp", reason="limit_idle")
            == closed + 3
        ),
        timeout=30,
        message="3 idle connections closed",
    )
    assert sum(_closed_by_peer(s) for s in idle[:3]) == 3  # the oldest idle ones went
    marker = f"after-limit-{uuid.uuid4().hex[:8]}"
    extra[0].sendall(f"<14>Jan  2 10:00:00 h app: {marker}\n".encode())
    wait_for(lambda: events_with(marker), timeout=30, message="a new sender served at the limit")
    assert "connections open (the limit)" in receiver.log()
    for sock in idle + extra:
        sock.close()
