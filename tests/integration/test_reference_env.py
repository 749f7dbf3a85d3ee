"""Processes configured the reference documents' way run the pipeline: ingest -> classify -> forward.

1. Only the v2.5 guide's variable names (its .env.template: REDIS_HOST/PORT/DB/PASSWORD,
   POSTGRES_*, MOOG_WEBHOOK_URL, MOOG_RATE_LIMIT_PER_SEC, ALERTER_CACHE_TTL_SECONDS, ...):
   no MUTT-only name in the environment of the ingest server or the worker.
2. A PostgreSQL that accepts only `hostssl` and a Redis with only a `tls-port`
   (a throwaway CA from scripts/tls_cert.sh): every client connects over TLS
   (DB_SSL_MODE / DB_SSL_ROOT_CERT, REDIS_TLS_ENABLED / REDIS_CA_CERT_PATH).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlparse

import psycopg2
import pytest
import redis
import requests
from django.conf import settings

from tests.alerts.factories import make_rule
from tests.conftest import ROOT, free_port, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

BASE_ENV = {k: os.environ[k] for k in ("PATH", "HOME", "LANG") if k in os.environ}
API_KEY = "reference-env-ingest-key-0123"


class Processes:
    def __init__(self, tmp_path: Path):
        self.tmp_path = tmp_path
        self.procs: list[tuple[subprocess.Popen, object]] = []

    def start(self, name: str, cmd: list[str], env: dict) -> Path:
        path = self.tmp_path / f"{name}.log"
        log = path.open("w")
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        self.procs.append((proc, log))
        return path

    def stop(self) -> None:
        for proc, log in self.procs:
            if proc.poll() is None:
                os.killpg(proc.pid, 15)
                try:
                    proc.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, 9)
                    proc.wait()
            log.close()


@pytest.fixture
def processes(tmp_path):
    p = Processes(tmp_path)
    yield p
    p.stop()


def _pipeline(processes: Processes, env: dict, ingest_port: int, sink, message: str) -> str:
    """Start ingest and a classify+forward worker with ``env``; send one event; return its correlation id."""
    ingest_log = processes.start("ingest", ["bash", "scripts/serve.sh", "ingest"], env | {"MUTT_INGEST_WORKERS": "1"})
    worker_log = processes.start(
        "worker",
        [sys.executable, "-m", "celery", "-A", "mutt_project", "worker", "-Q", "classify,forward", "-n",
         f"refenv-{os.getpid()}@%h", "--concurrency", "1", "--without-gossip", "--without-mingle", "--loglevel", "INFO"],
        env,
    )  # fmt: skip
    wait_for(lambda: "ready." in worker_log.read_text(), timeout=60, message=f"worker ready: {worker_log}")
    url = f"http://127.0.0.1:{ingest_port}"

    def ingest_up():
        try:
            return requests.get(url + "/health", timeout=5).status_code == 200
        except requests.RequestException:  # not up yet, or slow to answer its first request
            return False

    wait_for(ingest_up, timeout=60, interval=0.2, message=f"ingest healthy: {ingest_log}")
    event = {"timestamp": datetime.now(UTC).isoformat(), "hostname": "edge-7", "message": message}
    answer = requests.post(url + "/api/v2/ingest", json=event, headers={"X-API-Key": API_KEY}, timeout=10)
    assert answer.status_code == 202, answer.text
    wait_for(lambda: message in json.dumps(sink.received()), timeout=60, message="alert delivered to Moogsoft")
    return answer.json()["correlation_id"]


def test_a_process_with_only_the_v25_guides_names_runs_the_pipeline(processes, moog_sink, redis_client):
    make_rule(match_string="uplink lost", prod_handling="Page_and_ticket")
    db = urlparse(settings.DATABASE_URL)
    rd = urlparse(settings.REDIS_URL)
    ingest_port = free_port()
    env = BASE_ENV | {
        "REDIS_HOST": rd.hostname, "REDIS_PORT": str(rd.port), "REDIS_DB": rd.path.strip("/") or "0",
        "REDIS_PASSWORD": rd.password or "", "REDIS_SSL": "false",
        "POSTGRES_HOST": db.hostname, "POSTGRES_PORT": str(db.port),
        "POSTGRES_DB": settings.DATABASES["default"]["NAME"], "POSTGRES_USER": db.username,
        "POSTGRES_PASSWORD": db.password or "", "POSTGRES_SSL_MODE": "prefer",
        "MOOG_WEBHOOK_URL": moog_sink.url, "MOOG_RATE_LIMIT_PER_SEC": "50", "ALERTER_CACHE_TTL_SECONDS": "300",
        "INGESTOR_HOST": "127.0.0.1", "INGESTOR_PORT": str(ingest_port), "LOG_LEVEL": "INFO",
        "EVENT_RETENTION_DAYS": "90", "AUDIT_RETENTION_DAYS": "365", "PARTITION_PRECREATE_MONTHS": "3",
        "INGEST_API_KEY": API_KEY,
    }  # fmt: skip
    assert not any(k.startswith("MUTT_") or k in ("DATABASE_URL", "REDIS_URL") for k in env)

    cid = _pipeline(processes, env, ingest_port, moog_sink, "uplink lost on port 3")

    from alerts.models import EventAuditLog

    row = wait_for(lambda: EventAuditLog.objects.filter(correlation_id=cid).first(), message="audit row")
    assert row.handling == "Page_and_ticket"
    ingest_log = (processes.tmp_path / "ingest.log").read_text()
    assert "use REDIS_URL" in ingest_log and "use DATABASE_URL" in ingest_log  # the start-up warnings
    assert (db.password or "x" * 8) not in ingest_log


# ---------------------------------------------------------------------------
# TLS only
# ---------------------------------------------------------------------------


def _as_pg(cmd: list[str]) -> list[str]:
    user = os.environ.get("MUTT_PG_USER", "postgres")
    return cmd if os.geteuid() != 0 else ["runuser", "-u", user, "--", *cmd]


@pytest.fixture(scope="module")
def tls_services():
    """PostgreSQL (hostssl only) and Redis (tls-port only) with a throwaway CA; stopped after the module."""
    bindir = Path(os.environ.get("MUTT_PG_BINDIR") or sorted(Path("/usr/lib/postgresql").glob("*/bin"))[-1])
    base = ROOT / ".run" / f"tls-{os.getpid()}"
    shutil.rmtree(base, ignore_errors=True)
    certs, pgdata, rdir = base / "certs", base / "pg", base / "redis"
    subprocess.run(["bash", str(ROOT / "scripts/tls_cert.sh"), str(certs)], check=True, capture_output=True)
    for d in (base, pgdata, rdir):
        d.mkdir(parents=True, exist_ok=True)
    base.chmod(0o755)
    user = os.environ.get("MUTT_PG_USER", "postgres")
    if os.geteuid() == 0:
        shutil.chown(pgdata, user)
    subprocess.run(_as_pg([str(bindir / "initdb"), "-D", str(pgdata), "-U", "mutt", "--auth=trust", "-E", "UTF8"]),
                   check=True, capture_output=True)  # fmt: skip
    for name in ("server.crt", "server.key"):
        shutil.copy(certs / name, pgdata / name)
        if os.geteuid() == 0:
            shutil.chown(pgdata / name, user)
    (pgdata / "server.key").chmod(0o600)
    pg_port, redis_port = free_port(), free_port()
    with (pgdata / "postgresql.conf").open("a") as conf:
        conf.write(
            f"listen_addresses = '127.0.0.1'\nport = {pg_port}\nunix_socket_directories = '{pgdata}'\n"
            "ssl = on\nssl_cert_file = 'server.crt'\nssl_key_file = 'server.key'\nmax_connections = 50\n"
        )
    (pgdata / "pg_hba.conf").write_text("local all all trust\nhostssl all all 127.0.0.1/32 trust\n")
    subprocess.run(_as_pg([str(bindir / "pg_ctl"), "-D", str(pgdata), "-l", str(pgdata / "server.log"), "-w", "-t",
                           "60", "start"]), check=True, capture_output=True)  # fmt: skip
    redis_log = (rdir / "redis.log").open("w")
    redis_proc = subprocess.Popen(
        ["redis-server", "--port", "0", "--tls-port", str(redis_port), "--bind", "127.0.0.1",
         "--tls-cert-file", str(certs / "server.crt"), "--tls-key-file", str(certs / "server.key"),
         "--tls-ca-cert-file", str(certs / "ca.crt"), "--tls-auth-clients", "no", "--save", "",
         "--appendonly", "no", "--dir", str(rdir)],
        stdout=redis_log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    tls_env = {
        "DATABASE_URL": f"postgres://mutt@localhost:{pg_port}/mutt_tls",
        "DB_SSL_MODE": "verify-full",
        "DB_SSL_ROOT_CERT": str(certs / "ca.crt"),
        "REDIS_URL": f"redis://localhost:{redis_port}/0",
        "REDIS_TLS_ENABLED": "true",
        "REDIS_CA_CERT_PATH": str(certs / "ca.crt"),
    }
    try:
        admin = psycopg2.connect(host="localhost", port=pg_port, user="mutt", dbname="postgres",
                                 sslmode="verify-full", sslrootcert=str(certs / "ca.crt"))  # fmt: skip
        admin.autocommit = True
        with admin.cursor() as cursor:
            cursor.execute("CREATE DATABASE mutt_tls")
        admin.close()
        env = BASE_ENV | tls_env | {"LOG_LEVEL": "WARNING"}
        subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True)
        yield {"env": tls_env, "pg_port": pg_port, "redis_port": redis_port, "ca": str(certs / "ca.crt")}
    finally:
        redis_proc.terminate()
        redis_proc.wait(timeout=20)
        redis_log.close()
        subprocess.run(_as_pg([str(bindir / "pg_ctl"), "-D", str(pgdata), "-m", "fast", "-w", "stop"]),
                       capture_output=True)  # fmt: skip
        shutil.rmtree(base, ignore_errors=True)


def test_plain_connections_are_refused_by_the_tls_only_servers(tls_services):
    with pytest.raises(psycopg2.OperationalError, match="no encryption|SSL off"):
        psycopg2.connect(host="127.0.0.1", port=tls_services["pg_port"], user="mutt", dbname="mutt_tls",
                         sslmode="disable", connect_timeout=5)  # fmt: skip
    with pytest.raises(redis.exceptions.ConnectionError):
        redis.Redis(host="127.0.0.1", port=tls_services["redis_port"], socket_timeout=3).ping()


def test_ingest_classify_forward_over_tls_only(tls_services, processes, moog_sink):
    ca = tls_services["ca"]
    db = psycopg2.connect(tls_services["env"]["DATABASE_URL"], sslmode="verify-full", sslrootcert=ca)
    db.autocommit = True
    with db.cursor() as cursor:
        cursor.execute(
            "INSERT INTO alert_rules (match_string, match_type, priority, prod_handling, dev_handling,"
            " team_assignment, description, is_active, created_at, updated_at, created_by)"
            " VALUES ('fan failure', 'contains', 500, 'Page_and_ticket', 'Log_only', 'NETO', '', true, now(), now(), 't')"
        )
    ingest_port = free_port()
    env = BASE_ENV | tls_services["env"] | {
        "MOOG_WEBHOOK_URL": moog_sink.url, "INGEST_API_KEYS": API_KEY, "MUTT_INGEST_PORT": str(ingest_port),
        "LOG_LEVEL": "INFO",
    }  # fmt: skip

    cid = _pipeline(processes, env, ingest_port, moog_sink, "fan failure in tray 2")

    def audited():
        with db.cursor() as cursor:
            cursor.execute("SELECT handling, forward_status FROM event_audit_log WHERE correlation_id = %s", [cid])
            return cursor.fetchone()

    assert wait_for(lambda: (audited() or (None, None))[1] == "sent", timeout=30, message="forward_status sent")
    assert audited()[0] == "Page_and_ticket"
    with db.cursor() as cursor:  # every session the pipeline opened was encrypted
        cursor.execute("SELECT count(*), bool_and(s.ssl) FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid)"
                       " WHERE a.datname = 'mutt_tls'")  # fmt: skip
        sessions, all_ssl = cursor.fetchone()
    assert sessions >= 2 and all_ssl
    db.close()
