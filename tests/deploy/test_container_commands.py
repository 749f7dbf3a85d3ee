"""Every docker-compose service and Kubernetes workload starts from its declared command and
environment and answers its probe; the migrate commands migrate an empty database.

The processes are read from the rendered files and run outside a container
(tests/deploy/container_stack.py lists exactly what is changed for that).
Each service gets its own temporary directory, as each container has its own
filesystem, so the metrics each worker serves are its own.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
import uuid
from datetime import UTC, datetime
from urllib.parse import urlparse, urlunparse

import psycopg2
import pytest
import requests

from mutt_project import redis_keys
from tests.conftest import _test_database_url, free_port, wait_for
from tests.deploy.container_stack import (
    ROOT,
    Probe,
    Process,
    compose_processes,
    compose_render,
    k8s_processes,
    kustomize_render,
)

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

METRICS_TOKEN = "deploy-test-metrics-token-0123456789abcdef"
COMPOSE_VARS = {
    "DJANGO_SECRET_KEY": "compose-test-secret-key-0123456789-abcdefghijklmnop",
    "POSTGRES_PASSWORD": "unused-here",
    "REDIS_PASSWORD": "unused-here",
    "INGEST_API_KEYS": "compose-test-ingest-key",
    "FLOWER_BASIC_AUTH": "admin:compose-test",
    "METRICS_TOKEN": METRICS_TOKEN,
    "PATH": "/usr/local/bin:/usr/bin:/bin",
}
START_TIMEOUT = 180  # two cores shared by many: a loaded machine starts Django slowly
QUEUES = ("classify", "forward", "maintenance")


def _services() -> dict[str, str]:
    return {"DATABASE_URL": _test_database_url(), "REDIS_URL": os.environ["REDIS_URL"]}


def _k8s_secret(moog_url: str) -> dict[str, str]:
    return {
        "DJANGO_SECRET_KEY": "k8s-test-secret-key-0123456789-abcdefghijklmnopqrs",
        "DATABASE_URL": "replaced",
        "REDIS_URL": "replaced",
        "INGEST_API_KEYS": "k8s-test-ingest-key",
        "MOOG_WEBHOOK_URL": moog_url,
        "MOOG_API_KEY": "k8s-test-moog-key",
        "FLOWER_BASIC_AUTH": "admin:k8s-test",
        "METRICS_TOKEN": METRICS_TOKEN,
    }


def _probe_ok(probe: Probe, env: dict[str, str]) -> bool:
    if probe.kind == "http":
        try:
            answer = requests.get(probe.url, headers={"Host": probe.host}, timeout=probe.timeout)
        except requests.RequestException:
            return False
        return 200 <= answer.status_code < 400  # what a kubelet counts as success
    try:
        done = subprocess.run(probe.command, env=env, capture_output=True, timeout=probe.timeout, check=False)
    except subprocess.TimeoutExpired:
        return False
    return done.returncode == 0


def _answers(process: Process) -> bool:
    if process.proc.poll() is not None:
        return True  # exited: stop waiting, fail below
    return all(_probe_ok(p, process.env) for p in process.probes)


def _wait_probes(process: Process) -> None:
    wait_for(lambda: _answers(process), timeout=START_TIMEOUT, interval=1, message=f"{process.name} probes")
    assert process.proc.poll() is None, f"{process.name} exited:\n{process.log_tail()}"


def _http_ok(url: str, **kwargs) -> bool:
    try:
        return requests.get(url, timeout=5, **kwargs).ok
    except requests.RequestException:
        return False


def _metrics(process: Process, declared: int = 9100) -> str:
    try:
        return requests.get(
            f"http://127.0.0.1:{process.ports[declared]}/metrics",
            headers={"Authorization": f"Bearer {process.env.get('METRICS_TOKEN', '')}"},
            timeout=30,
        ).text
    except requests.RequestException:
        return ""


def _heartbeats_since(redis_client, t0: float) -> bool:
    stamps = [redis_client.get(f"{redis_keys.QUEUE_HEARTBEAT}{q}") for q in QUEUES]
    return all(s is not None and float(s) > t0 for s in stamps)


def _post_event(url: str, key: str) -> None:
    event = {
        "timestamp": datetime.now(UTC).isoformat(),
        "hostname": "container-test-01",
        "message": f"container command test {uuid.uuid4()}",
    }
    answer = requests.post(url, json=event, headers={"X-API-Key": key}, timeout=10)
    assert answer.status_code in (200, 202), answer.text


def _classified(process: Process) -> bool:
    return bool(re.search(r"^mutt_alerter_events_processed_total\{[^}]*\} [1-9]", _metrics(process), re.M))


def _run_stack(processes: dict[str, Process]) -> None:
    for process in processes.values():
        process.start()
    for process in processes.values():
        _wait_probes(process)


def _stop_stack(processes: dict[str, Process]) -> None:
    for process in processes.values():
        process.stop()


def test_compose_services_start_and_answer(redis_client, tmp_path):
    rendered = compose_render(COMPOSE_VARS)
    processes = compose_processes(rendered, _services(), tmp_path, free_port)
    processes.pop("migrate")  # the migrate test below
    expected = {"ingest", "web", "beat", "flower", "moog-sink", "receivers"} | {f"worker-{q}" for q in QUEUES}
    assert set(processes) == expected
    sink = processes["moog-sink"]
    sink_url = f"http://127.0.0.1:{sink.ports[8099]}/"
    for process in processes.values():  # the compose network name of the stand-in, here
        if process.env.get("MOOG_WEBHOOK_URL") == "http://moog-sink:8099/":
            process.env["MOOG_WEBHOOK_URL"] = sink_url
    t0 = time.time()
    try:
        _run_stack(processes)
        # Those without a healthcheck answer on their port, and Beat's heartbeats reach every queue.
        wait_for(lambda: _http_ok(sink_url + "health"), timeout=START_TIMEOUT, interval=1, message="moog-sink")
        flower = f"http://127.0.0.1:{processes['flower'].ports[5555]}/"
        wait_for(lambda: _http_ok(flower, auth=("admin", "compose-test")), START_TIMEOUT, 1, "flower")
        wait_for(lambda: _heartbeats_since(redis_client, t0), START_TIMEOUT, 1, "Beat's heartbeat on every queue")
        # Each worker's metrics port shows its own queue's figures.
        ingest_port = processes["ingest"].ports[8080]
        _post_event(f"http://127.0.0.1:{ingest_port}/api/v2/ingest", COMPOSE_VARS["INGEST_API_KEYS"])
        wait_for(lambda: _classified(processes["worker-classify"]), START_TIMEOUT, 1, "classify metrics")
        assert 'mutt_worker_heartbeat_age_seconds{queue="classify"' in _metrics(processes["worker-classify"])
        # The worker's /metrics asks for the same bearer token as ingest's and web's.
        unauthenticated = requests.get(
            f"http://127.0.0.1:{processes['worker-classify'].ports[9100]}/metrics", timeout=30
        )
        assert unauthenticated.status_code == 401
        assert "mutt_moog_" in _metrics(processes["worker-forward"])
        assert 'queue="forward"' in _metrics(processes["worker-forward"])
        wait_for(
            lambda: "mutt_gauges_updated_timestamp_seconds" in _metrics(processes["worker-maintenance"]),
            START_TIMEOUT,
            1,
            "maintenance gauges",
        )
    finally:
        _stop_stack(processes)


def test_kubernetes_workloads_start_answer_and_a_stopped_worker_fails_liveness(redis_client, moog_sink, tmp_path):
    docs = kustomize_render("overlays/production")
    processes = k8s_processes(docs, _k8s_secret(moog_sink.url), _services(), tmp_path, free_port)
    processes.pop("mutt-migrate")  # the migrate test below
    expected = {"mutt-ingest", "mutt-web", "mutt-beat", "mutt-flower", "mutt-receivers"}
    expected |= {f"mutt-worker-{q}" for q in QUEUES}
    assert set(processes) == expected
    for name in ("mutt-ingest", "mutt-web") + tuple(f"mutt-worker-{q}" for q in QUEUES):
        assert processes[name].probes, f"{name} declares no probe"
    t0 = time.time()
    try:
        _run_stack(processes)
        flower = f"http://127.0.0.1:{processes['mutt-flower'].ports[5555]}/"
        wait_for(lambda: _http_ok(flower, auth=("admin", "k8s-test")), START_TIMEOUT, 1, "flower")
        wait_for(lambda: _heartbeats_since(redis_client, t0), START_TIMEOUT, 1, "Beat's heartbeat on every queue")

        # kill -STOP the classify worker: its liveness probe fails (a stopped
        # worker cannot answer), within the manifest's period x threshold.
        classify = processes["mutt-worker-classify"]
        container = next(d for d in docs if d["metadata"]["name"] == "mutt-worker-classify")
        liveness = container["spec"]["template"]["spec"]["containers"][0]["livenessProbe"]
        probe = next(p for p in classify.probes if p.url.endswith("/livez"))
        os.kill(classify.proc.pid, signal.SIGSTOP)
        try:
            wait_for(
                lambda: not _probe_ok(probe, classify.env),
                timeout=liveness["periodSeconds"] * liveness["failureThreshold"],
                interval=liveness["periodSeconds"] / 4,
                message="liveness failing on a stopped worker",
            )
        finally:
            os.kill(classify.proc.pid, signal.SIGCONT)
        wait_for(lambda: _probe_ok(probe, classify.env), START_TIMEOUT, 1, "liveness back after SIGCONT")
    finally:
        _stop_stack(processes)


def _admin_sql(url: str, sql: str) -> None:
    conn = psycopg2.connect(url)
    conn.autocommit = True
    try:
        with conn.cursor() as cursor:
            cursor.execute(sql)
    finally:
        conn.close()


@pytest.fixture
def empty_database():
    url = urlparse(_test_database_url())
    name = f"mutt_migrate_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = urlunparse(url._replace(path="/postgres"))
    _admin_sql(admin, f'CREATE DATABASE "{name}"')
    yield urlunparse(url._replace(path="/" + name))
    _admin_sql(admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _migrations_pending(env: dict[str, str]) -> int:
    check = ["python", "manage.py", "migrate", "--check"]
    return subprocess.run(check, cwd=ROOT, env=env, capture_output=True, check=False).returncode


def test_the_migrate_job_and_compose_migrate_migrate_an_empty_database(empty_database, moog_sink, tmp_path):
    services = {"DATABASE_URL": empty_database, "REDIS_URL": os.environ["REDIS_URL"]}
    job = k8s_processes(
        kustomize_render("overlays/production"), _k8s_secret(moog_sink.url), services, tmp_path / "k8s", free_port
    )["mutt-migrate"]
    assert _migrations_pending(job.env) != 0  # the database is really empty
    job.start()
    assert job.proc.wait(timeout=600) == 0, job.log_tail()
    assert _migrations_pending(job.env) == 0
    migrate = compose_processes(compose_render(COMPOSE_VARS), services, tmp_path / "compose", free_port)["migrate"]
    migrate.start()  # a re-run applies nothing, then loads the sample data
    assert migrate.proc.wait(timeout=600) == 0, migrate.log_tail()
    assert _migrations_pending(migrate.env) == 0
