"""The receivers process (``manage.py receivers``, as the Procfile runs it) on the test database."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests
from django.db import connection

from alerts.models import IngestBatch
from tests.conftest import ROOT, _test_database_url, free_port, wait_for


@dataclass
class Receiver:
    proc: subprocess.Popen
    log_path: Path
    ports: dict[str, int]
    env: dict[str, str] = field(default_factory=dict)

    @property
    def health_url(self) -> str:
        return f"http://127.0.0.1:{self.ports['health']}"

    def health(self) -> dict:
        return requests.get(self.health_url + "/health", timeout=5).json()

    def metric(self, name: str, **labels) -> float:
        """The sum of the samples of ``name`` whose labels include ``labels`` (0 when none)."""
        text = requests.get(self.health_url + "/metrics", timeout=5).text
        total = 0.0
        for line in text.splitlines():
            match = re.match(r"^(\w+)(?:\{(.*)\})? (\S+)$", line)
            if not match or match.group(1) != name:
                continue
            found = dict(re.findall(r'(\w+)="([^"]*)"', match.group(2) or ""))
            if all(found.get(k) == v for k, v in labels.items()):
                total += float(match.group(3))
        return total

    def log(self) -> str:
        return self.log_path.read_text()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=30)


def start_receiver(tmp_path: Path, **settings: str) -> Receiver:
    ports = {"udp": free_port(), "tcp": free_port(), "health": free_port()}
    env = os.environ | {
        "DATABASE_URL": _test_database_url(),
        "MUTT_SERVICE_NAME": "receivers",
        "LOG_LEVEL": "INFO",
        "RECEIVER_HOST": "127.0.0.1",
        "SYSLOG_UDP_PORT": str(ports["udp"]),
        "SYSLOG_TCP_PORT": str(ports["tcp"]),
        "RECEIVER_HEALTH_PORT": str(ports["health"]),
        "SNMP_TRAP_PORT": "0",
        "RECEIVER_FLUSH_MS": "10",
    }
    for name, value in settings.items():
        env[name] = value
    for key, name in (("tls", "SYSLOG_TLS_PORT"), ("trap", "SNMP_TRAP_PORT")):
        if env.get(name) not in (None, "0"):
            ports[key] = int(env[name])
    log_path = tmp_path / f"receivers-{len(list(tmp_path.glob('receivers-*.log')))}.log"
    proc = subprocess.Popen(
        [sys.executable, "manage.py", "receivers"],
        cwd=ROOT,
        env=env,
        stdout=log_path.open("w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    receiver = Receiver(proc, log_path, ports, env)

    def up():
        if proc.poll() is not None:
            return True
        try:
            return requests.get(receiver.health_url + "/health", timeout=1).status_code == 200
        except requests.ConnectionError:
            return False

    wait_for(up, timeout=40, interval=0.2, message="receivers up")
    assert proc.poll() is None, log_path.read_text()
    return receiver


@pytest.fixture
def receiver_factory(tmp_path, redis_client, transactional_db):
    started: list[Receiver] = []

    def _start(**settings: str) -> Receiver:
        receiver = start_receiver(tmp_path, **settings)
        started.append(receiver)
        return receiver

    yield _start
    for receiver in started:
        receiver.stop()


@pytest.fixture(scope="module")
def shared_receiver(tmp_path_factory, django_db_setup, django_db_blocker):
    """One receivers process for a module's tests (starting one costs seconds)."""
    receiver = start_receiver(tmp_path_factory.mktemp("receivers"), SYSLOG_TCP_MAX_CONNECTIONS="6")
    yield receiver
    receiver.stop()


@pytest.fixture
def receiver(shared_receiver, transactional_db, redis_client) -> Receiver:
    assert shared_receiver.proc.poll() is None, shared_receiver.log()[-3000:]
    return shared_receiver


def stored_events() -> list[dict]:
    connection.close()  # a fresh snapshot: the receiver commits on its own connection
    return [e for batch in IngestBatch.objects.order_by("id") for e in batch.events]


def events_with(marker: str) -> list[dict]:
    return [e for e in stored_events() if marker in e["message"]]
