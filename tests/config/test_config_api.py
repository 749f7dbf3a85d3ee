"""Configuration as code over HTTP: plan = rule-lab backtest, apply reaches the workers, rollback, 409, 400, 413."""

from __future__ import annotations

import json
import threading
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client

from alerts.api.config_file import ConfigValidateView
from alerts.models import AlertRule, ConfigAuditLog, ConfigVersion, EventAuditLog
from alerts.services.config import ConfigChange
from alerts.services.config_apply import config_apply
from tests.config.conftest import GOOD
from tests.conftest import wait_for

BAD_CHANGE = GOOD.replace("  prod_handling: Page_and_ticket\n", "  prod_handling: Suppress\n", 1)
CHANGE = GOOD.replace(
    "  prod_handling: Page_and_ticket\n  dev_handling: Email_only\n  team: NETO\n",
    "  prod_handling: Ticket_only\n  dev_handling: Email_only\n  team: WEB\n",
    1,
)


def _client(superuser: bool) -> Client:
    name = f"user-{uuid.uuid4().hex[:8]}"
    model = get_user_model()
    user = model.objects.create_superuser(name, password="pw-x") if superuser else model.objects.create_user(name)
    client = Client()
    client.force_login(user)
    return client


def _post_yaml(client: Client, url: str, text: str, **params):
    query = "&".join(f"{k}={v}" for k, v in params.items())
    return client.post(f"{url}?{query}" if query else url, data=text.encode(), content_type="application/yaml")


def _seed(rows: list[tuple[str, str]]) -> None:
    """Stored events (hostname, message) as classification would have written them, an hour ago."""
    now = datetime.now(UTC)
    with connection.cursor() as cursor:
        cursor.executemany(
            "INSERT INTO event_audit_log (received_at, event_timestamp, processed_at, hostname, message, source, "
            "team_assignment, handling, is_dev, correlation_id, raw_payload, forward_status) "
            "VALUES (%s, %s, %s, %s, %s, 'syslog', 'NETO', 'Log_only', false, %s, '{}', 'none')",
            [(now - timedelta(hours=1), now, now, host, msg, str(uuid.uuid4())) for host, msg in rows],
        )


def _ingest(client: Client, api_key: str, hostname: str, message: str) -> str:
    cid = str(uuid.uuid4())
    body = orjson.dumps({"hostname": hostname, "message": message, "timestamp": datetime.now(UTC).isoformat(),
                         "correlation_id": cid})  # fmt: skip
    response = client.post("/api/v2/ingest", data=body, content_type="application/json", headers={"X-API-Key": api_key})
    assert response.status_code in (200, 202), response.content
    return cid


def _decision(cid: str) -> tuple[str, str]:
    row = wait_for(lambda: EventAuditLog.objects.filter(correlation_id=cid).first(), timeout=60, message="classified")
    return row.handling, row.team_assignment


def _table(result: dict) -> dict:
    return {(c["from"]["handling"], c["from"]["team"], c["to"]["handling"], c["to"]["team"]): c["count"]
            for c in result["changes"]}  # fmt: skip


def test_plan_reports_the_rule_lab_backtest_and_apply_gives_new_events_those_decisions(empty_config, workers, api_key):
    admin = _client(superuser=True)
    config_apply(GOOD, change=ConfigChange(user="alice", reason="start"))
    _seed([("router-1", "link down")] * 3 + [("lab-7", "link down")] * 2 + [("db-1", "db-7 slow")] * 4)
    workers.start(queues="classify,forward,maintenance")
    core_down = AlertRule.objects.get(key="core-down")
    draft = {"id": core_down.pk, "prod_handling": "Ticket_only", "team_assignment": "WEB"}
    started = admin.post("/api/v2/rules/backtest", data=orjson.dumps({"rules": [draft], "days": 1}),
                         content_type="application/json")  # fmt: skip
    assert started.status_code == 202, started.content
    url = f"/api/v2/rules/backtest/{started.json()['id']}"
    lab = wait_for(lambda: (b := admin.get(url).json())["state"] in ("done", "failed") and b, 60, message="backtest")
    assert lab["state"] == "done", lab["error"]

    plan = admin.post("/api/v2/config-file/plan", data=orjson.dumps({"content": CHANGE, "days": 1}),
                      content_type="application/json")  # fmt: skip
    assert plan.status_code == 200, plan.content
    body = plan.json()
    assert body["changes"]["rules"]["changed"] == {
        "core-down": {"prod_handling": {"from": "Page_and_ticket", "to": "Ticket_only"},
                      "team": {"from": "NETO", "to": "WEB"}}
    }  # fmt: skip
    assert body["backtest"]["changed"] == lab["result"]["changed"] == 5
    assert (
        _table(body["backtest"])
        == _table(lab["result"])
        == {
            ("Page_and_ticket", "NETO", "Ticket_only", "WEB"): 3,
            ("Email_only", "NETO", "Email_only", "WEB"): 2,  # lab-* is a development host
        }
    )

    applied = _post_yaml(admin, "/api/v2/config-file/apply", CHANGE, reason="route core to web")
    assert applied.status_code == 200, applied.content
    prod = _ingest(admin, api_key, "router-9", "link down")
    dev = _ingest(admin, api_key, "lab-3", "link down")
    assert _decision(prod) == ("Ticket_only", "WEB")
    assert _decision(dev) == ("Email_only", "WEB")


def test_rollback_restores_routing_and_the_audit_trail_shows_both_changes(empty_config, workers, api_key):
    admin = _client(superuser=True)
    good = config_apply(GOOD, change=ConfigChange(user="alice", reason="good"))["version"]
    workers.start(queues="classify,forward")
    assert _decision(_ingest(admin, api_key, "router-1", "link down")) == ("Page_and_ticket", "NETO")
    bad = _post_yaml(admin, "/api/v2/config-file/apply", BAD_CHANGE, reason="oops")
    assert bad.status_code == 200, bad.content
    assert _decision(_ingest(admin, api_key, "router-1", "link down")) == ("Suppress", "NETO")

    rolled = admin.post(f"/api/v2/config-versions/{good}/rollback", data=orjson.dumps({"reason": "misrouted"}),
                        content_type="application/json")  # fmt: skip
    assert rolled.status_code == 200, rolled.content
    assert rolled.json()["diff"] == ["~ rules/core-down: prod_handling: 'Suppress' → 'Page_and_ticket'"]
    assert _decision(_ingest(admin, api_key, "router-1", "link down")) == ("Page_and_ticket", "NETO")

    rule = AlertRule.objects.get(key="core-down")
    trail = ConfigAuditLog.objects.filter(table_name="alert_rules", record_id=rule.pk, operation="UPDATE")
    assert [(a.reason, a.new_values["prod_handling"]) for a in trail.order_by("id")] == [
        ("oops", "Suppress"),
        (f"rollback to version {good}: misrouted", "Page_and_ticket"),
    ]
    versions = admin.get("/api/v2/config-versions").json()["results"]
    assert [v["source"] for v in versions[:3]] == ["rollback", "apply", "apply"]
    assert versions[0]["content_hash"] == ConfigVersion.objects.get(number=good).content_hash
    diff = admin.get(f"/api/v2/config-versions/{good}/diff/{versions[1]['number']}").json()
    assert diff["diff"] == ["~ rules/core-down: prod_handling: 'Page_and_ticket' → 'Suppress'"]


def test_of_two_concurrent_applies_one_wins_and_the_other_gets_409(empty_config):
    base = config_apply(GOOD, change=ConfigChange(user="alice", reason="start"))["version"]
    clients = [_client(superuser=True), _client(superuser=True)]
    barrier = threading.Barrier(2)
    statuses: list[int] = []

    def run(client: Client, text: str) -> None:
        barrier.wait()
        try:
            statuses.append(
                _post_yaml(client, "/api/v2/config-file/apply", text, reason="race", base_version=base).status_code
            )
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(c, t)) for c, t in zip(clients, (CHANGE, BAD_CHANGE), strict=True)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert sorted(statuses) == [200, 409]
    assert ConfigVersion.objects.filter(number__gt=base).count() == 1


def test_a_bad_file_is_a_400_with_line_and_column_and_stores_nothing(empty_config):
    admin = _client(superuser=True)
    response = _post_yaml(admin, "/api/v2/config-file/apply", GOOD.replace("team: WEB", "team: WEBB"), reason="x")
    assert response.status_code == 400
    assert response.json() == {
        "error": "Invalid configuration file",
        "detail": {"errors": [{"path": "device_teams/0/team", "line": 28, "column": 9,
                               "message": "team 'WEBB' is not in the file's teams list"}]},
    }  # fmt: skip
    assert not AlertRule.objects.exists()


def test_reads_need_the_read_scope_and_writes_the_admin_scope(empty_config):
    reader = _client(superuser=False)
    assert reader.get("/api/v2/config-file").status_code == 200
    assert _post_yaml(reader, "/api/v2/config-file/validate", GOOD).json() == {"valid": True}
    assert _post_yaml(reader, "/api/v2/config-file/apply", GOOD, reason="x").status_code == 403
    assert (
        reader.post("/api/v2/lookup-tables/inventory/csv", data=b"hostname,site\n", content_type="text/csv").status_code
        == 403
    )
    assert Client().get("/api/v2/config-file").status_code in (401, 403)


def test_an_upload_larger_than_the_views_limit_is_413(empty_config, monkeypatch):
    monkeypatch.setattr(ConfigValidateView, "max_body_bytes", 100)
    response = _post_yaml(_client(superuser=True), "/api/v2/config-file/validate", GOOD)
    assert response.status_code == 413
    assert response.json()["error"] == "Request body too large"


def test_the_published_schema_file_is_the_one_the_api_serves(db):
    served = _client(superuser=False).get("/api/v2/config-file/schema").json()
    saved = json.loads((Path(__file__).resolve().parents[2] / "docs" / "config-schema.json").read_text())
    assert saved == served
