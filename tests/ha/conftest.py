"""Fixtures for the high-availability tests: a PostgreSQL primary and standby of the test's own."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from django.conf import settings

from chaos.pg_cluster import PgCluster
from tests.conftest import ROOT, free_port
from tests.worker_services import services_env_read


def _services() -> dict[str, str]:
    return services_env_read(Path(os.environ.get("MUTT_TEST_SERVICES_ENV", ROOT / ".run" / "test" / "services.env")))


@pytest.fixture
def cluster(request):
    """A primary (synchronous replication to ``standby``) and its streaming standby."""
    extra = getattr(request, "param", "")
    services = _services()
    pg = PgCluster(services["MUTT_PG_BINDIR"], services.get("MUTT_PG_USER", "postgres"))
    try:
        # Synchronous replication: a commit (so a 202) waits until the standby has the WAL.
        primary = pg.primary_init(free_port(), extra_conf="synchronous_standby_names = 'standby'\n" + extra)
        pg.standby_clone("standby", free_port(), primary)
        yield pg
    finally:
        pg.stop_all()
    shutil.rmtree(pg.root, ignore_errors=True)  # kept when stopping failed: its logs tell why


def schema_copy(pg: PgCluster) -> None:
    """The test database (schema, partitions, seed rows; no audit rows) into the cluster's ``mutt`` database."""
    db = settings.DATABASES["default"]
    pg.psql(pg.nodes["primary"], "CREATE DATABASE mutt")
    dump = subprocess.run(
        [
            f"{pg.bindir}/pg_dump",
            "-h",
            db["HOST"],
            "-p",
            str(db["PORT"]),
            "-U",
            db["USER"],
            "--no-owner",
            # Schema and seed rows, not the audit rows an earlier test left (the table is not flushed).
            "--exclude-table-data=event_audit_log*",
            db["NAME"],
        ],
        env=os.environ | {"PGPASSWORD": db["PASSWORD"]},
        capture_output=True,
        check=True,
    )
    subprocess.run(
        [f"{pg.bindir}/psql", "-h", "127.0.0.1", "-p", str(pg.nodes["primary"].port), "-U", "mutt", "-d", "mutt",
         "-Xq", "-v", "ON_ERROR_STOP=1"],
        input=dump.stdout, env=pg.env(), capture_output=True, check=True,
    )  # fmt: skip
