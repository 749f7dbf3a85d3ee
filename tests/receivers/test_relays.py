"""rsyslog (omfwd, TCP octet-counted, plain and TLS) and syslog-ng (network()) forwarding to the receivers.

Each relay runs in the foreground with its own configuration, pid file and
spool directory, reads the lines a test writes to a file (imfile, file()),
and forwards them as it would from a real syslog host.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import uuid
from pathlib import Path

import pytest

from tests.conftest import ROOT, free_port, wait_for
from tests.receivers.conftest import events_with, start_receiver

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


@pytest.fixture(scope="module")
def certs(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("tls")
    subprocess.run(["bash", str(ROOT / "scripts/tls_cert.sh"), str(path)], check=True, capture_output=True)
    # A client certificate from the same CA (rsyslog presents it); a stranger's from another CA.
    for name, ca in (("client", "ca"), ("stranger", "stranger-ca")):
        if ca == "stranger-ca":
            subprocess.run(
                ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", path / "stranger-ca.key",
                 "-out", path / "stranger-ca.crt", "-days", "2", "-subj", "/CN=stranger CA"],
                check=True, capture_output=True,
            )  # fmt: skip
        subprocess.run(
            ["openssl", "req", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout", path / f"{name}.key",
             "-out", path / f"{name}.csr", "-subj", f"/CN={name}"],
            check=True, capture_output=True,
        )  # fmt: skip
        subprocess.run(
            ["openssl", "x509", "-req", "-in", path / f"{name}.csr", "-CA", path / f"{ca}.crt", "-CAkey",
             path / f"{ca}.key", "-CAcreateserial", "-days", "2", "-out", path / f"{name}.crt"],
            check=True, capture_output=True,
        )  # fmt: skip
    return path


@pytest.fixture(scope="module")
def relay_receiver(tmp_path_factory, certs, django_db_setup, django_db_blocker):
    receiver = start_receiver(
        tmp_path_factory.mktemp("relay-receiver"),
        SYSLOG_TLS_PORT=str(free_port()),
        SYSLOG_TLS_CERT=str(certs / "server.crt"),
        SYSLOG_TLS_KEY=str(certs / "server.key"),
        SYSLOG_TLS_CLIENT_CA=str(certs / "ca.crt"),
    )
    yield receiver
    receiver.stop()


@pytest.fixture
def receiver(relay_receiver, transactional_db, redis_client):
    return relay_receiver


class Relay:
    def __init__(self, args: list[str], log: Path, cwd: Path):
        self.log = log
        self.proc = subprocess.Popen(
            args, cwd=cwd, stdout=log.open("w"), stderr=subprocess.STDOUT, start_new_session=True
        )

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()


@pytest.fixture
def relays():
    started: list[Relay] = []
    yield started
    for relay in started:
        relay.stop()


def _rsyslog(tmp_path: Path, receiver, certs: Path, tls: bool) -> tuple[list[str], Path]:
    if not shutil.which("rsyslogd"):
        pytest.fail("rsyslogd is not installed (scripts/test.sh installs rsyslog and rsyslog-gnutls)")
    spool = tmp_path / "spool"
    spool.mkdir()
    source = tmp_path / "in.log"
    source.touch()
    port = receiver.ports["tls" if tls else "tcp"]
    tls_global = (
        f'defaultNetstreamDriverCAFile="{certs}/ca.crt" defaultNetstreamDriverCertFile="{certs}/client.crt" '
        f'defaultNetstreamDriverKeyFile="{certs}/client.key"'
        if tls
        else ""
    )
    tls_action = (
        'StreamDriver="gtls" StreamDriverMode="1" StreamDriverAuthMode="x509/name" StreamDriverPermittedPeers="localhost"'
        if tls
        else ""
    )
    conf = tmp_path / "rsyslog.conf"
    conf.write_text(f"""
global(workDirectory="{spool}" localHostname="rsyslog-relay-01" {tls_global})
module(load="imfile" mode="polling" PollingInterval="1")
input(type="imfile" File="{source}" Tag="relayapp:" Severity="warning" Facility="local5")
action(type="omfwd" target="127.0.0.1" port="{port}" protocol="tcp" TCP_Framing="octet-counted"
       template="RSYSLOG_SyslogProtocol23Format" {tls_action}
       queue.type="LinkedList" queue.filename="fwd" queue.saveOnShutdown="on" action.resumeRetryCount="-1")
""")
    return ["rsyslogd", "-n", "-f", str(conf), "-i", str(tmp_path / "rsyslogd.pid")], source


@pytest.mark.parametrize("tls", [False, True], ids=["tcp", "tls"])
def test_rsyslog_omfwd_octet_counted(receiver, certs, relays, tmp_path, tls):
    marker = f"rsyslog-{uuid.uuid4().hex[:10]}"
    args, source = _rsyslog(tmp_path, receiver, certs, tls)
    relays.append(Relay(args, tmp_path / "rsyslogd.log", tmp_path))
    lines = [f"{marker} line {i} disk almost full" for i in range(20)]
    with source.open("a") as handle:
        handle.write("\n".join(lines) + "\n")
    events = wait_for(lambda: len(e := events_with(marker)) >= 20 and e, timeout=60, message="20 relayed lines")
    assert sorted(e["message"] for e in events) == sorted(lines)  # each once
    event = events[0]
    assert (event["hostname"], event["syslog_severity"], event["facility"]) == ("rsyslog-relay-01", 4, "local5")
    assert event["program"] == "relayapp" and event["transport"] == ("tls" if tls else "tcp")
    assert event["syslog_format"] == "rfc5424"


def _syslog_ng() -> tuple[list[str], dict[str, str]]:
    """syslog-ng from PATH, or the copy scripts/test.sh unpacks (Debian's syslog-ng conflicts with rsyslog)."""
    binary = shutil.which("syslog-ng")
    if binary:
        return [binary], {}
    unpacked = ROOT / ".run" / "tools" / "syslog-ng"
    binary_path = unpacked / "usr/sbin/syslog-ng"
    if not binary_path.exists():
        pytest.fail("syslog-ng not found (scripts/test.sh unpacks Debian's syslog-ng-core into .run/tools)")
    libs = unpacked / "usr/lib/syslog-ng"
    modules = next(libs.glob("3.*"))
    return [str(binary_path), f"--module-path={modules}"], {"LD_LIBRARY_PATH": str(libs)}


def test_syslog_ng_network_destination(receiver, relays, tmp_path):
    marker = f"syslogng-{uuid.uuid4().hex[:10]}"
    command, env = _syslog_ng()
    source = tmp_path / "in.log"
    source.touch()
    conf = tmp_path / "syslog-ng.conf"
    conf.write_text(f"""@version: 3.38
options {{ use-dns(no); keep-hostname(no); }};
source s_file {{ file("{source}" follow-freq(1) flags(no-parse) default-priority(err) default-facility(local2)
                      program-override("ngapp")); }};
rewrite r_host {{ set("syslog-ng-relay-01" value("HOST")); }};
destination d_mutt {{ network("127.0.0.1" port({receiver.ports["tcp"]}) transport("tcp")); }};
log {{ source(s_file); rewrite(r_host); destination(d_mutt); }};
""")
    args = [*command, "-F", "--no-caps", "-f", str(conf), "-p", str(tmp_path / "sng.pid"), "-R",
            str(tmp_path / "sng.persist"), "-c", str(tmp_path / "sng.ctl")]  # fmt: skip
    env_prefix = ["env", *(f"{k}={v}" for k, v in env.items())] if env else []
    relays.append(Relay([*env_prefix, *args], tmp_path / "syslog-ng.log", tmp_path))
    lines = [f"{marker} line {i} fan failure" for i in range(10)]
    with source.open("a") as handle:
        handle.write("\n".join(lines) + "\n")
    events = wait_for(lambda: len(e := events_with(marker)) >= 10 and e, timeout=60, message="10 relayed lines")
    assert sorted(e["message"] for e in events) == sorted(lines)
    event = events[0]
    assert (event["hostname"], event["syslog_severity"], event["facility"]) == ("syslog-ng-relay-01", 3, "local2")
    assert event["program"] == "ngapp" and event["syslog_format"] == "rfc3164"


def test_tls_handshake_from_an_unknown_client_is_counted_and_logged(receiver, certs):
    import socket
    import ssl

    port = receiver.ports["tls"]

    def failures() -> float:
        return receiver.metric("mutt_receiver_connections_closed_total", transport="tls", reason="tls_handshake")

    before = failures()
    for cert in ("stranger", None):  # a certificate from another CA, then none at all
        context = ssl.create_default_context(cafile=str(certs / "ca.crt"))
        if cert:
            context.load_cert_chain(str(certs / f"{cert}.crt"), str(certs / f"{cert}.key"))
        with socket.create_connection(("127.0.0.1", port), timeout=30) as raw:
            try:
                with context.wrap_socket(raw, server_hostname="localhost") as tls:
                    tls.sendall(b"<13>Jan  2 10:00:00 h app: should not be stored\n")
                    tls.recv(1)  # TLS 1.3: the server's refusal arrives after the client's handshake
            except (ssl.SSLError, ConnectionError):
                pass
    wait_for(lambda: failures() == before + 2, timeout=30, message="2 refused handshakes counted")
    assert "tls handshake with 127.0.0.1 failed" in receiver.log()
    assert not events_with("should not be stored")
    # A known client still gets through.
    marker = f"known-tls-{uuid.uuid4().hex[:8]}"
    context = ssl.create_default_context(cafile=str(certs / "ca.crt"))
    context.load_cert_chain(str(certs / "client.crt"), str(certs / "client.key"))
    with (
        socket.create_connection(("127.0.0.1", port), timeout=30) as raw,
        context.wrap_socket(raw, server_hostname="localhost") as tls,
    ):
        tls.sendall(f"<13>Jan  2 10:00:00 h app: {marker}\n".encode())
    wait_for(lambda: events_with(marker), timeout=30, message="the known client's message")
