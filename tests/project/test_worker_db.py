"""Which database bounds a worker's sessions get (mutt_project.worker_db, pure part)."""

from __future__ import annotations

from mutt_project.worker_db import session_limits, session_limits_sql


def test_pipeline_workers_get_the_short_statement_bound(settings):
    settings.WORKER_STATEMENT_TIMEOUT_MS, settings.WORKER_LOCK_TIMEOUT_MS = 30_000, 10_000
    settings.MAINTENANCE_STATEMENT_TIMEOUT_MS = 600_000
    assert session_limits(["classify"]) == (30_000, 10_000)
    assert session_limits(["forward", "classify"]) == (30_000, 10_000)
    assert session_limits(["maintenance"]) == (600_000, 10_000)
    assert session_limits([]) == (600_000, 10_000)  # every queue


def test_the_sql_sets_both():
    assert session_limits_sql((500, 0)) == "SET statement_timeout = 500; SET lock_timeout = 0"
