"""/api/v2/audit-logs: the configuration audit trail, filtered, newest first, at most 500 a page."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from alerts.models import ConfigAuditLog

pytestmark = pytest.mark.django_db


def _log(**kw) -> ConfigAuditLog:
    spec = {"changed_by": "alice", "operation": "CREATE", "table_name": "alert_rules", "record_id": 1} | kw
    return ConfigAuditLog.objects.create(**spec)


def test_audit_logs_filter_and_come_newest_first(reader):
    old = _log(record_id=1)
    ConfigAuditLog.objects.filter(pk=old.pk).update(changed_at=timezone.now() - timedelta(days=10))
    mid = _log(record_id=2, operation="UPDATE", changed_by="bob")
    new = _log(record_id=3, table_name="device_teams", operation="DELETE")

    body = reader.get("/api/v2/audit-logs").json()
    assert [row["id"] for row in body["logs"]] == [new.pk, mid.pk, old.pk]
    assert (body["limit"], body["offset"], body["has_more"]) == (50, 0, False)

    def ids(query: str) -> list[int]:
        response = reader.get(f"/api/v2/audit-logs?{query}")
        assert response.status_code == 200, response.content
        return [row["id"] for row in response.json()["logs"]]

    assert ids("table_name=alert_rules") == [mid.pk, old.pk]
    assert ids("operation=UPDATE") == [mid.pk]
    assert ids("changed_by=bob") == [mid.pk]
    assert ids("record_id=3") == [new.pk]
    since = (timezone.now() - timedelta(days=1)).isoformat()
    assert ids(f"start_date={since.replace('+', '%2B')}") == [new.pk, mid.pk]
    until = (timezone.now() - timedelta(days=5)).isoformat()
    assert ids(f"end_date={until.replace('+', '%2B')}") == [old.pk]
    page = reader.get("/api/v2/audit-logs?limit=1").json()
    assert [r["id"] for r in page["logs"]] == [new.pk] and page["has_more"] is True


@pytest.mark.parametrize("query", ["limit=501", "operation=PATCH", "start_date=yesterday", "table=alert_rules"])
def test_bad_audit_log_queries_are_400(reader, query):
    assert reader.get(f"/api/v2/audit-logs?{query}").status_code == 400
