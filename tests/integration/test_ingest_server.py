"""The ingest process as the Procfile runs it (granian + ingest.wsgi), and the SNMP trap handler against it."""

from __future__ import annotations

import gzip
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest
import requests

from alerts.models import IngestBatch
from tests.conftest import ROOT, _test_database_url, free_port, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

TRAPHANDLE = ROOT / "deploy" / "snmp" / "mutt-traphandle"
# What snmptrapd (outputOption n) writes on the handler's stdin for a Cisco config-change trap.
TRAP_STDIN = """core-sw-01.example.net
UDP: [192.0.2.1]:50123->[192.0.2.10]:162
.1.3.6.1.2.1.1.3.0 0:1:02:03.00
.1.3.6.1.6.3.1.1.4.1.0 .1.3.6.1.4.1.9.9.43.2.0.1
.1.3.6.1.4.1.9.9.43.1.1.6.1.3.1 3
.1.3.6.1.4.1.9.9.43.1.1.6.1.5.1 "running-config changed by admin"
"""


@pytest.fixture
def ingest_server(redis_client, tmp_path):
    """The ingest process, started with the Procfile's server and application, on the test database."""
    port = free_port()
    env = os.environ | {"DATABASE_URL": _test_database_url(), "MUTT_SERVICE_NAME": "ingest", "LOG_LEVEL": "WARNING"}
    log = (tmp_path / "ingest.log").open("w")
    proc = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "granian"),
            "--interface",
            "wsgi",
            "ingest.wsgi:application",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            "1",
            "--blocking-threads",
            "4",
            "--no-ws",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"

    def up():
        try:
            return requests.get(url + "/health", timeout=30).status_code == 200
        except requests.RequestException:  # not listening yet, or slow to answer on a busy machine
            return proc.poll() is not None

    wait_for(up, timeout=60, message="ingest server")
    assert proc.poll() is None, (tmp_path / "ingest.log").read_text()
    yield url
    proc.terminate()
    proc.wait(timeout=20)
    log.close()


def test_ingest_process_accepts_events_and_serves_nothing_else(ingest_server, api_key):
    event = {"timestamp": datetime.now(UTC).isoformat(), "hostname": "R1", "message": "link down"}
    single = requests.post(
        ingest_server + "/api/v2/ingest",
        data=orjson.dumps(event),
        headers={"X-API-Key": api_key, "Content-Type": "application/json"},
        timeout=10,
    )
    assert single.status_code == 202 and single.json()["status"] == "accepted"
    batch = requests.post(
        ingest_server + "/ingest",
        data=gzip.compress(b"\n".join([orjson.dumps(event)] * 50)),
        headers={
            "Authorization": f"Bearer {api_key}",
            "Content-Encoding": "gzip",
            "Content-Type": "application/x-ndjson",
        },
        timeout=10,
    )
    assert batch.status_code == 202 and batch.json()["accepted"] == 50
    assert sorted(IngestBatch.objects.values_list("event_count", flat=True)) == [1, 50]

    refused = requests.post(ingest_server + "/api/v2/ingest", data=b"{}", headers={"X-API-Key": "nope"}, timeout=10)
    assert refused.status_code == 401 and "API key" in refused.json()["error"]
    assert requests.get(ingest_server + "/api/v2/ingest", timeout=10).status_code == 405
    admin = requests.get(ingest_server + "/admin/", headers={"X-API-Key": api_key}, timeout=10, allow_redirects=False)
    assert admin.status_code == 404
    assert "mutt_ingest_requests_total" in requests.get(ingest_server + "/metrics", timeout=10).text


def test_snmp_trap_becomes_a_mutt_event(ingest_server, api_key, tmp_path):
    result = subprocess.run(
        [sys.executable, str(TRAPHANDLE)],
        input=TRAP_STDIN,
        text=True,
        capture_output=True,
        timeout=60,
        env={
            "PATH": os.environ["PATH"],
            "MUTT_INGEST_URL": ingest_server + "/api/v2/ingest",
            "MUTT_INGEST_API_KEY": api_key,
            "MUTT_TRAP_SPOOL": str(tmp_path / "spool"),
            "MUTT_TRAPHANDLE_CONFIG": str(tmp_path / "none"),
        },
    )
    assert result.returncode == 0, result.stderr
    [event] = IngestBatch.objects.get().events
    assert event["source"] == "snmp"
    assert event["trap_oid"] == "1.3.6.1.4.1.9.9.43.2.0.1"
    assert event["hostname"] == "core-sw-01.example.net"
    assert event["agent_address"] == "192.0.2.1"
    assert {"oid": "1.3.6.1.4.1.9.9.43.1.1.6.1.5.1", "value": "running-config changed by admin"} in event["varbinds"]
    assert "running-config changed by admin" in event["message"]


def test_trap_is_spooled_while_mutt_is_unreachable_and_sent_with_the_next(ingest_server, api_key, tmp_path):
    spool = tmp_path / "spool"
    env = {
        "PATH": os.environ["PATH"],
        "MUTT_INGEST_API_KEY": api_key,
        "MUTT_TRAP_SPOOL": str(spool),
        "MUTT_TRAPHANDLE_CONFIG": str(tmp_path / "none"),
    }
    down = subprocess.run(
        [sys.executable, str(TRAPHANDLE)],
        input=TRAP_STDIN,
        text=True,
        capture_output=True,
        env=env | {"MUTT_INGEST_URL": f"http://127.0.0.1:{free_port()}/api/v2/ingest"},
        timeout=120,
    )
    assert down.returncode == 1 and len(list(spool.glob("*.json"))) == 1
    up = subprocess.run(
        [sys.executable, str(TRAPHANDLE)],
        input=TRAP_STDIN,
        text=True,
        capture_output=True,
        env=env | {"MUTT_INGEST_URL": ingest_server + "/api/v2/ingest"},
        timeout=60,
    )
    assert up.returncode == 0, up.stderr
    assert list(spool.glob("*.json")) == []
    assert IngestBatch.objects.get().event_count == 2
