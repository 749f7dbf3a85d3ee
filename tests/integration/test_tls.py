"""HTTPS served by MUTT itself (scripts/serve.sh with MUTT_TLS_CERT/MUTT_TLS_KEY).

The certificate is the one `MUTT_TLS=1 make run` generates (scripts/tls_cert.sh);
the client posts what the shipped rsyslog configuration posts, with the CA
check on, exactly as rsyslog's tls.cacert would.
"""

from __future__ import annotations

import gzip
import os
import re
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest
import requests

from tests.conftest import ROOT, _test_database_url, free_port, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

RSYSLOG = (ROOT / "deploy/rsyslog/99-mutt.conf").read_text()
SYSLOG_NG = (ROOT / "deploy/syslog-ng/mutt.conf").read_text()
ACTION = dict(re.findall(r'^\s*([a-zA-Z.]+)="([^"]*)"', RSYSLOG.split("action(", 1)[1], re.M))


@pytest.fixture(scope="module")
def certs(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("tls")
    subprocess.run(["bash", str(ROOT / "scripts/tls_cert.sh"), str(path)], check=True, capture_output=True)
    return path


def _serve(which: str, certs: Path, tmp_path: Path):
    port = free_port()
    env = os.environ | {
        "DATABASE_URL": _test_database_url(),
        "LOG_LEVEL": "WARNING",
        "MUTT_TLS_CERT": str(certs / "server.crt"),
        "MUTT_TLS_KEY": str(certs / "server.key"),
        f"MUTT_{which.upper()}_PORT": str(port),
        f"MUTT_{which.upper()}_WORKERS": "1",
        f"MUTT_{which.upper()}_THREADS": "2",
    }
    log = (tmp_path / f"{which}.log").open("w")
    proc = subprocess.Popen(
        ["bash", str(ROOT / "scripts/serve.sh"), which],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"https://localhost:{port}"

    def up():
        try:
            return requests.get(url + "/health", timeout=10, verify=str(certs / "ca.crt")).status_code in (200, 503)
        except requests.RequestException:  # not listening yet, or its first request is slow on a loaded machine
            return proc.poll() is not None

    wait_for(up, timeout=60, interval=0.2, message=f"{which} over HTTPS")
    assert proc.poll() is None, (tmp_path / f"{which}.log").read_text()
    return proc, url, log


@pytest.fixture
def https_ingest(certs, tmp_path, redis_client):
    proc, url, log = _serve("ingest", certs, tmp_path)
    yield url
    proc.terminate()
    proc.wait(timeout=20)
    log.close()


def _rsyslog_batch(n: int) -> bytes:
    now = datetime.now(UTC).isoformat()
    lines = [
        orjson.dumps(
            {"timestamp": now, "hostname": "edge-01", "message": f"%LINK-3-UPDOWN: tls {i}", "syslog_severity": 3}
        )
        for i in range(n)
    ]
    return b"\n".join(lines)


def test_shipped_sender_configurations_use_https_with_a_ca_check():
    assert ACTION["usehttps"] == "on" and ACTION["tls.cacert"]
    assert ACTION["serverport"] == "443"
    url = re.search(r'url\("([^"]+)"\)', SYSLOG_NG).group(1)
    assert url.startswith("https://") and url.endswith("/" + ACTION["restpath"])
    assert f'ca-file("{ACTION["tls.cacert"]}")' in SYSLOG_NG and "peer-verify(yes)" in SYSLOG_NG


def test_rsyslog_batch_over_https_with_the_ca_verified(https_ingest, certs, api_key):
    # tls.cacert's role: the CA that signed MUTT's certificate.
    response = requests.post(
        f"{https_ingest}/{ACTION['restpath']}",
        data=gzip.compress(_rsyslog_batch(int(ACTION["batch.maxsize"]))),
        headers={"X-API-Key": api_key, "Content-Type": "application/json", "Content-Encoding": "gzip"},
        verify=str(certs / "ca.crt"),
        timeout=10,
    )
    assert response.status_code == 202, response.text
    assert response.json()["accepted"] == int(ACTION["batch.maxsize"])


def test_a_client_that_does_not_trust_the_ca_is_refused(https_ingest, api_key):
    with pytest.raises(requests.exceptions.SSLError):
        requests.post(
            f"{https_ingest}/{ACTION['restpath']}",
            data=_rsyslog_batch(1),
            headers={"X-API-Key": api_key},
            verify=True,  # the system's CAs only
            timeout=10,
        )
    # Plain HTTP on the TLS port gets no answer a sender could mistake for success.
    with pytest.raises(requests.exceptions.ConnectionError):
        requests.post(
            https_ingest.replace("https://", "http://") + "/" + ACTION["restpath"],
            data=_rsyslog_batch(1),
            headers={"X-API-Key": api_key},
            timeout=10,
        )


def test_web_serves_https_too(certs, tmp_path):
    proc, url, log = _serve("web", certs, tmp_path)
    try:
        response = requests.get(url + "/health", verify=str(certs / "ca.crt"), timeout=10)
        assert response.status_code == 200, response.text
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        log.close()
