"""Run one step of the read-replica test in a process of its own (its own PGAPPNAME, so the servers'
statement logs say which process sent what). Prints one JSON line.

    python -m tests.ha.replica_probe seed|search|backtest|metrics
"""

from __future__ import annotations

import os
import sys
import uuid
from dataclasses import asdict
from datetime import timedelta

import django
import orjson

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mutt_project.settings")
django.setup()

from django.utils import timezone  # noqa: E402

from alerts.models import EventAuditLog  # noqa: E402
from alerts.models.rule_lab import RuleBacktest  # noqa: E402
from alerts.selectors import EventFilters, events_search  # noqa: E402
from alerts.services.rule_backtest import backtest_run  # noqa: E402
from mutt_project.replica import replica_state  # noqa: E402
from remediation.status import metrics_summary, status_read  # noqa: E402

HOST = "replica-probe-1"


def seed() -> dict:
    now = timezone.now()
    cid = uuid.uuid4()
    EventAuditLog.objects.create(
        received_at=now, event_timestamp=now, processed_at=now, hostname=HOST, message="link down",
        source="syslog", handling="Log_only", team_assignment="NETO", correlation_id=cid, raw_payload={},
    )  # fmt: skip
    draft = {"rules": [{"match_string": "link", "prod_handling": "Log_only", "dev_handling": "Log_only"}]}
    backtest = RuleBacktest.objects.create(
        user="replica-probe", draft=draft | {"replace": False}, window_start=now - timedelta(days=1),
        window_end=now + timedelta(minutes=5),
    )  # fmt: skip
    return {"correlation_id": str(cid), "backtest": str(backtest.pk)}


def search() -> dict:
    now = timezone.now()
    page = events_search(filters=EventFilters(since=now - timedelta(days=1), until=now + timedelta(days=1),
                                              hostname=HOST), limit=10)  # fmt: skip
    return {"found": [str(e["correlation_id"]) for e in page.events], "replica": replica_state().as_dict()}


def backtest(backtest_id: str) -> dict:
    status = backtest_run(backtest_id)
    scanned = RuleBacktest.objects.get(pk=backtest_id).scanned
    return {"status": str(status), "scanned": scanned, "replica": replica_state().as_dict()}


def metrics() -> dict:
    return {"replica": metrics_summary(asdict(status_read()))["replica"]}


if __name__ == "__main__":
    step, *args = sys.argv[1:]
    result = {"seed": seed, "search": search, "backtest": backtest, "metrics": metrics}[step](*args)
    sys.stdout.write(orjson.dumps(result).decode() + "\n")
