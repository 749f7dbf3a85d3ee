"""Real syslog senders against the receivers process: each message stored once, host, severity and text right."""

from __future__ import annotations

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
