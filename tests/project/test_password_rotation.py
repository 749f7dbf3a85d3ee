"""PostgreSQL and Redis passwords rotated in Vault reach running processes without a restart.

Vault is the local stand-in; PostgreSQL and Redis are real, and their
passwords are changed during the tests (a role of its own on the test
cluster, a Redis server of its own).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlparse

import psycopg2
import pytest
import redis

from mutt_project import secrets
from tests.conftest import free_port, wait_for
from tests.vault_standin import VaultStandIn

ROOT = Path(__file__).resolve().parents[2]
ADMIN_URL = urlparse(os.environ.get("DATABASE_URL", ""))
ROLE = "mutt_rotation_test"


@pytest.fixture
def vault(monkeypatch):
    stand_in = VaultStandIn("role-r", "secret-r", {})
    monkeypatch.setenv("VAULT_ADDR", stand_in.url)
    monkeypatch.setenv("VAULT_ROLE_ID", "role-r")
    monkeypatch.setenv("VAULT_SECRET_ID", "secret-r")
    monkeypatch.setattr(secrets, "_vault", None)
    monkeypatch.setattr(secrets, "ROTATION_REFRESH_SECONDS", 0.5)
    yield stand_in
    if secrets._vault is not None:
        secrets._vault.stop_renewal()
    stand_in.close()


@pytest.fixture
def redis_server(tmp_path):
    port = free_port()
    proc = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--requirepass", "redis-a", "--save", ""],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        start_new_session=True,
    )

    def up():
        try:
            return redis.Redis(port=port, password="redis-a", socket_timeout=10).ping()
        except redis.exceptions.RedisError:
            return False

    wait_for(up, timeout=60, message="redis-server")
    yield port
    proc.terminate()
    proc.wait(timeout=10)


def _set_redis_password(port: int, old: str, new: str) -> None:
    redis.Redis(port=port, password=old).config_set("requirepass", new)


def test_redis_client_tries_next_then_picks_up_a_rotation(vault, redis_server):
    vault.kv.update(REDIS_PASS_CURRENT="redis-a", REDIS_PASS_NEXT="redis-b")
    provider = secrets.RedisPasswordProvider(f"redis://127.0.0.1:{redis_server}/0")
    provider.CHECK_TTL_SECONDS = 0

    def new_client_pings() -> bool:
        client = redis.Redis(port=redis_server, credential_provider=provider, socket_timeout=2)
        try:
            return client.ping()
        finally:
            client.close()

    assert new_client_pings()
    # The password changes on the server before Vault's "current" moves: the next one works.
    _set_redis_password(redis_server, "redis-a", "redis-b")
    assert new_client_pings()
    # The operator rotates: next becomes current, a new next; the server moves to it.
    vault.kv.update(REDIS_PASS_CURRENT="redis-b", REDIS_PASS_NEXT="redis-c")
    _set_redis_password(redis_server, "redis-b", "redis-c")
    assert new_client_pings()
    # Neither password works: the error is the server's, and no password is in it.
    vault.kv.update(REDIS_PASS_CURRENT="nope-1", REDIS_PASS_NEXT="nope-2")
    time.sleep(0.6)
    with pytest.raises(redis.exceptions.AuthenticationError) as error:
        new_client_pings()
    assert "nope" not in str(error.value)


@pytest.fixture
def pg_role():
    admin = psycopg2.connect(os.environ["DATABASE_URL"])
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(f"DROP ROLE IF EXISTS {ROLE}")
        cur.execute(f"CREATE ROLE {ROLE} LOGIN PASSWORD 'pg-a'")

    def set_password(password: str) -> None:
        with admin.cursor() as cur:
            cur.execute(f"ALTER ROLE {ROLE} PASSWORD %s", [password])

    yield set_password
    with admin.cursor() as cur:
        cur.execute(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = '{ROLE}'")
        cur.execute(f"DROP ROLE IF EXISTS {ROLE}")
    admin.close()


# A long-running Django process: on each line read, a new database connection and a query.
PROCESS = """
import sys, django
django.setup()
from django.db import connection
print(connection.settings_dict["ENGINE"], flush=True)
for line in sys.stdin:
    connection.close()
    try:
        with connection.cursor() as cur:
            cur.execute("SELECT current_user")
            print("ok", cur.fetchone()[0], flush=True)
    except Exception as exc:
        print("error", type(exc).__name__, flush=True)
"""


def test_django_process_tries_next_then_picks_up_a_rotation_without_restart(vault, pg_role):
    vault.kv.update(DB_PASS_CURRENT="pg-a", DB_PASS_NEXT="pg-b")
    url = f"postgres://{ROLE}@{ADMIN_URL.hostname}:{ADMIN_URL.port}/postgres"
    env = os.environ | {"DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "mutt_project.settings"}
    proc = subprocess.Popen(
        [sys.executable, "-c", PROCESS],
        cwd=ROOT,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )

    def query() -> str:
        proc.stdin.write("go\n")
        proc.stdin.flush()
        return proc.stdout.readline().strip()

    try:
        assert proc.stdout.readline().strip() == "mutt_project.db_rotating"
        assert query() == f"ok {ROLE}"
        pg_role("pg-b")  # the database moves to the next password
        assert query() == f"ok {ROLE}"
        vault.kv.update(DB_PASS_CURRENT="pg-b", DB_PASS_NEXT="pg-c")  # rotation in Vault
        pg_role("pg-c")
        time.sleep(
            1
        )  # the process re-reads Vault (every 0.5 s here would be the test's; it uses 30 s, forced on failure)
        assert query() == f"ok {ROLE}"
        pg_role("pg-z")  # neither works: an error, not a hang, and no password in the output
        assert query() == "error OperationalError"
    finally:
        proc.stdin.close()
        proc.wait(timeout=20)
    assert "pg-" not in proc.stderr.read()
