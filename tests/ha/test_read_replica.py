"""With DATABASE_REPLICA_URL set, an event search and a backtest's scan of the audit log send no query
to the primary, and both fall back to the primary when the replica stops.

How it is checked: both servers log every statement with the client's application name
(``log_statement = all``, ``log_line_prefix = '%a|'``); each step runs in its own process
with its own ``PGAPPNAME``, and the test reads who sent what from the two logs.
"""

from __future__ import annotations

import os
import subprocess
import sys

import orjson
import pytest

from tests.conftest import ROOT, wait_for
from tests.ha.conftest import schema_copy

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True), pytest.mark.timeout(300)]

STATEMENT_LOG = "log_statement = 'all'\nlog_line_prefix = '%a|'\n"


def _statements(node, app: str) -> list[str]:
    lines = (node.data / "server.log").read_text(errors="replace").splitlines()
    return [line for line in lines if line.startswith(app + "|") and "statement:" in line]


@pytest.mark.parametrize("cluster", [STATEMENT_LOG], indirect=True)
def test_search_and_backtest_read_the_replica_and_fall_back_to_the_primary(cluster):
    schema_copy(cluster)
    primary, standby = cluster.nodes["primary"], cluster.nodes["standby"]
    env = os.environ | {
        "DATABASE_URL": cluster.url("primary"),
        "DATABASE_REPLICA_URL": cluster.url("standby").replace("read-write", "any"),
        "REPLICA_CHECK_SECONDS": "0",
        "LOG_LEVEL": "WARNING",
    }

    def probe(app: str, *args: str) -> dict:
        done = subprocess.run([sys.executable, "-m", "tests.ha.replica_probe", *args], cwd=ROOT,
                              env=env | {"PGAPPNAME": app}, capture_output=True, text=True, timeout=120)  # fmt: skip
        assert done.returncode == 0, done.stderr[-3000:]
        return orjson.loads(done.stdout.strip().splitlines()[-1])

    seeded = probe("probe-seed", "seed")
    cid = seeded["correlation_id"]
    wait_for(lambda: cluster.psql(standby, f"SELECT count(*) FROM event_audit_log WHERE correlation_id = '{cid}'",
                                  db="mutt") == "1", timeout=60, message="the replica has replayed the event")  # fmt: skip

    searched = probe("probe-search", "search")
    assert searched["found"] == [cid]
    assert searched["replica"] == {"configured": True, "in_use": True, "lag_seconds": 0.0}
    assert _statements(primary, "probe-search") == []
    assert any("event_audit_log" in line for line in _statements(standby, "probe-search"))

    scanned = probe("probe-backtest", "backtest", seeded["backtest"])
    assert (scanned["status"], scanned["scanned"]) == ("done", 1)
    # The backtest's own row (claim, progress, result) is written to the primary; its scan is not read there.
    assert _statements(primary, "probe-backtest")
    assert [line for line in _statements(primary, "probe-backtest") if "event_audit_log" in line] == []
    assert any("event_audit_log" in line for line in _statements(standby, "probe-backtest"))

    cluster.stop(standby)
    fallback = probe("probe-fallback", "search")
    assert fallback["found"] == [cid]
    assert fallback["replica"] == {"configured": True, "in_use": False, "lag_seconds": None}
    assert any("event_audit_log" in line for line in _statements(primary, "probe-fallback"))
    assert probe("probe-metrics", "metrics")["replica"] == {"configured": True, "in_use": False, "lag_seconds": None}
