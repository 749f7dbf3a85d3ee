"""Rule lab over HTTP: explain sample events, backtest a draft with a real worker, rule health."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import orjson
import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client

from alerts.models import AlertRule, DevelopmentHost, DeviceTeam
from alerts.models.rule_lab import RuleBacktest
from alerts.rule_cache import ruleset_forget
from alerts.services.rule_health import rule_health_compute
from tests.alerts.factories import make_rule
from tests.conftest import wait_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def client(db, redis_client):
    ruleset_forget()
    user = get_user_model().objects.create_user("operator", password="pw-not-a-secret")
    c = Client()
    c.force_login(user)
    yield c
    ruleset_forget()


def post(client, url, body):
    return client.post(url, data=orjson.dumps(body), content_type="application/json")


def seed_audit(rows: list[dict]) -> None:
    """Stored events as classification would have written them (one multi-row INSERT)."""
    now = datetime.now(UTC)
    values = [
        (
            r.get("received_at", now - timedelta(hours=1)),
            now,
            now,
            r.get("hostname", "router-1"),
            r["message"],
            "syslog",
            r.get("syslog_severity"),
            r.get("trap_oid"),
            r.get("rule_id"),
            r.get("team", "NETO"),
            r.get("handling", "Log_only"),
            False,
            str(uuid.uuid4()),
            "{}",
            "none",
        )
        for r in rows
    ]
    with connection.cursor() as cursor:
        cursor.executemany(
            "INSERT INTO event_audit_log (received_at, event_timestamp, processed_at, hostname, message, source, "
            "syslog_severity, trap_oid, rule_id, team_assignment, handling, is_dev, correlation_id, raw_payload, "
            "forward_status) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
            values,
        )


# ---------------------------------------------------------------------------
# POST /api/v2/rules/test
# ---------------------------------------------------------------------------


def test_explain_shows_winner_runner_up_host_facts_and_moog_payload(client):
    low = make_rule(match_string="down", priority=100, team_assignment="NETO")
    high = make_rule(match_string="link", priority=900, team_assignment="CORE")
    DeviceTeam.objects.create(hostname="edge-1", team_assignment="EDGE")
    event = {"timestamp": "2026-01-01T00:00:00Z", "host": "EDGE-1", "msg": "link down", "severity": 1}
    response = post(client, "/api/v2/rules/test", {"events": [event]})
    assert response.status_code == 200, response.content
    result = response.json()["results"][0]
    assert result["winner"]["rule_id"] == high.pk
    assert result["winner"]["match"] == {"substring": "link", "span": [0, 4]}
    assert [r["rule_id"] for r in result["runners_up"]] == [low.pk]
    assert result["host"]["team_override"] == "EDGE"
    assert result["decision"] == {
        "rule_id": high.pk,
        "matched": True,
        "handling": "Page_and_ticket",
        "team": "EDGE",
        "is_dev": False,
        "forwarded": True,
    }
    payload = result["moog_payload"]
    assert payload["severity"] == 5  # syslog 1 (alert) -> Moogsoft critical, never 0 (clear)
    assert payload["class"] == "EDGE"
    assert payload["signature"] == f"edge-1:{high.pk}:syslog"
    assert payload["agent_time"] == int(datetime(2026, 1, 1, tzinfo=UTC).timestamp())


def test_explain_of_a_dev_host_is_not_forwarded_and_has_no_payload(client):
    make_rule(match_string="down")
    DevelopmentHost.objects.create(hostname="lab-1")
    result = post(client, "/api/v2/rules/test", {"events": [{"hostname": "lab-1", "message": "down"}]}).json()
    decision = result["results"][0]["decision"]
    assert (decision["handling"], decision["is_dev"], decision["forwarded"]) == ("Email_only", True, False)
    assert result["results"][0]["moog_payload"] is None


def test_a_draft_on_top_outranks_a_live_rule_and_nothing_is_saved(client):
    live = make_rule(match_string="down", priority=500)
    draft = {"match_string": "link", "match_type": "contains", "priority": 900, "prod_handling": "Suppress",
             "dev_handling": "Suppress", "team_assignment": "NOISE"}  # fmt: skip
    body = {"events": [{"hostname": "r1", "message": "link down"}], "rules": [draft]}
    result = post(client, "/api/v2/rules/test", body).json()["results"][0]
    assert result["winner"]["draft"] is True
    assert result["decision"]["handling"] == "Suppress"
    assert [r["rule_id"] for r in result["runners_up"]] == [live.pk]
    assert AlertRule.objects.count() == 1


def test_replace_evaluates_the_draft_set_alone(client):
    make_rule(match_string="down", priority=900)
    draft = {"match_string": "link", "priority": 1, "prod_handling": "Ticket_only", "dev_handling": "Log_only"}
    body = {"events": [{"hostname": "r1", "message": "link down"}], "rules": [draft], "replace": True}
    result = post(client, "/api/v2/rules/test", body).json()["results"][0]
    assert result["runners_up"] == []
    assert result["decision"]["handling"] == "Ticket_only"


def test_a_draft_deactivating_the_winner_lets_the_runner_up_win(client):
    winner = make_rule(match_string="link", priority=900)
    runner_up = make_rule(match_string="down", priority=100, prod_handling="Ticket_only")
    body = {"events": [{"hostname": "r1", "message": "link down"}], "rules": [{"id": winner.pk, "is_active": False}]}
    result = post(client, "/api/v2/rules/test", body).json()["results"][0]
    assert result["winner"]["rule_id"] == runner_up.pk
    assert AlertRule.objects.get(pk=winner.pk).is_active


@pytest.mark.parametrize(
    ("draft", "field"),
    [
        ({"match_type": "regex", "match_string": r"(a)\1", "prod_handling": "Log_only", "dev_handling": "Log_only"},
         "match_string"),
        ({"match_string": "x", "priority": 1001, "prod_handling": "Log_only", "dev_handling": "Log_only"}, "priority"),
        ({"match_type": "contains", "prod_handling": "Log_only", "dev_handling": "Log_only"}, "match_string"),
    ],
)  # fmt: skip
def test_a_draft_the_model_refuses_is_a_400_with_its_messages(client, draft, field):
    response = post(client, "/api/v2/rules/test", {"events": [{"hostname": "r", "message": "m"}], "rules": [draft]})
    assert response.status_code == 400
    assert field in response.json()["detail"]["rules"]["0"]
    assert AlertRule.objects.count() == 0


def test_more_than_a_thousand_sample_events_is_413(client):
    events = [{"hostname": "r", "message": "m"}] * 1001
    assert post(client, "/api/v2/rules/test", {"events": events}).status_code == 413
    assert post(client, "/api/v2/rules/test", {"events": events[:1000]}).status_code == 200


def test_the_rule_lab_needs_a_logged_in_user_or_an_api_key(db):
    response = Client().post("/api/v2/rules/test", data=b'{"events": []}', content_type="application/json")
    assert response.status_code == 401
    assert "detail" in response.json()


def test_a_read_scope_api_key_may_explain(db):
    """Explaining changes nothing, so a read-only key is enough."""
    from alerts.services.api_keys import api_key_create

    _, key = api_key_create(name="reader", scope="read")
    response = Client().post(
        "/api/v2/rules/test",
        data=b'{"events": [{"hostname": "r1", "message": "Interface Gi0/1 changed state to down"}]}',
        content_type="application/json",
        HTTP_X_API_KEY=key,
    )
    assert response.status_code == 200, response.content
    assert len(response.json()["results"]) == 1


# ---------------------------------------------------------------------------
# Backtest
# ---------------------------------------------------------------------------


def test_a_window_longer_than_retention_is_400(client, settings):
    settings.EVENT_RETENTION_DAYS = 30
    body = {"rules": [{"match_string": "x", "prod_handling": "Log_only", "dev_handling": "Log_only"}], "days": 31}
    response = post(client, "/api/v2/rules/backtest", body)
    assert response.status_code == 400
    assert "retention" in response.json()["detail"]["days"][0]


def test_a_second_backtest_of_the_same_user_is_409_with_the_running_id(client):
    body = {"rules": [{"match_string": "x", "prod_handling": "Log_only", "dev_handling": "Log_only"}]}
    first = post(client, "/api/v2/rules/backtest", body)  # no worker: it stays queued
    assert first.status_code == 202
    second = post(client, "/api/v2/rules/backtest", body)
    assert second.status_code == 409
    assert second.json()["id"] == first.json()["id"]
    cancelled = client.post(f"/api/v2/rules/backtest/{first.json()['id']}/cancel")
    assert cancelled.json()["state"] == "cancelled"
    assert post(client, "/api/v2/rules/backtest", body).status_code == 202


@pytest.fixture
def backtest_history(empty_audit_log):
    """A seeded history: the live rule "down" (500) won some events; others matched nothing."""
    live = make_rule(match_string="down", priority=500, prod_handling="Ticket_only", team_assignment="NETO")
    rows = []
    for i in range(300):
        if i % 3 == 0:
            rows.append({"message": f"BGP peer {i} link down", "rule_id": live.pk, "handling": "Ticket_only",
                         "hostname": f"edge-{i % 4}"})  # fmt: skip
        elif i % 3 == 1:
            rows.append({"message": f"BGP peer {i} established", "hostname": f"edge-{i % 4}"})
        else:
            rows.append({"message": f"fan {i} ok", "hostname": "core-1"})
    rows.append({"message": "BGP old", "received_at": datetime.now(UTC) - timedelta(days=9)})  # outside the window
    seed_audit(rows)
    return live


def test_backtest_with_a_worker_reports_exact_counts_and_change_table(client, backtest_history, workers):
    workers.start(queues="maintenance")
    draft = {"match_string": "BGP", "match_type": "contains", "priority": 900, "prod_handling": "Page_only",
             "dev_handling": "Log_only", "team_assignment": "ROUTING"}  # fmt: skip
    started = post(client, "/api/v2/rules/backtest", {"rules": [draft]})
    assert started.status_code == 202, started.content
    url = f"/api/v2/rules/backtest/{started.json()['id']}"
    done = wait_for(lambda: (b := client.get(url).json())["state"] in ("done", "failed") and b, 60, message="backtest")
    assert done["state"] == "done", done["error"]
    assert done["percent"] == 100.0
    result = done["result"]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM event_audit_log WHERE strpos(message, 'BGP') > 0 AND received_at >= %s",
            [datetime.fromisoformat(result["window"]["start"])],
        )
        sql_count = cursor.fetchone()[0]
    assert result["scanned"] == 300
    assert result["would_match"] == sql_count == 200
    assert result["changed"] == 200
    table = {(c["from"]["handling"], c["from"]["team"], c["to"]["handling"], c["to"]["team"]): c["count"]
             for c in result["changes"]}  # fmt: skip
    assert table == {
        ("Ticket_only", "NETO", "Page_only", "ROUTING"): 100,
        ("Log_only", "NETO", "Page_only", "ROUTING"): 100,
    }
    outranked = next(c for c in result["changes"] if c["from"]["handling"] == "Ticket_only")
    assert (outranked["from"]["forwarded"], outranked["to"]["forwarded"]) == (True, True)
    assert len(outranked["samples"]) == 100
    assert {s["from_rule"] for s in outranked["samples"]} == {backtest_history.pk}
    per_rule = {r["rule_id"]: r for r in result["per_rule"]}
    assert per_rule[backtest_history.pk]["lost"] == 100
    assert sum(h["changed"] for h in result["per_host"]) == 200
    assert AlertRule.objects.count() == 1  # the draft was never saved


def test_a_running_backtest_can_be_cancelled(client, backtest_history):
    body = {"rules": [{"match_string": "x", "prod_handling": "Log_only", "dev_handling": "Log_only"}]}
    started = post(client, "/api/v2/rules/backtest", body).json()
    RuleBacktest.objects.filter(pk=started["id"]).update(status="running")
    assert client.post(f"/api/v2/rules/backtest/{started['id']}/cancel").json()["cancel_requested"] is True


# ---------------------------------------------------------------------------
# Rule health
# ---------------------------------------------------------------------------


def test_rule_health_flags_shadowed_never_matched_and_duplicates_not_the_winner(client, empty_audit_log):
    winner = make_rule(match_string="link", priority=900)
    shadowed = make_rule(match_string="down", priority=100)  # every "down" event also says "link"
    never = make_rule(match_string="no such text", priority=50)
    duplicate = make_rule(match_string="link", priority=10)
    seed_audit([{"message": "link down", "rule_id": winner.pk} for _ in range(5)])
    rule_health_compute()
    rows = {r["rule_id"]: r for r in client.get("/api/v2/rules/health?ordering=-hits_7d").json()["results"]}
    assert rows[winner.pk]["hits_24h"] == 5
    assert (rows[winner.pk]["never_matched"], rows[winner.pk]["shadowed"]) == (False, False)
    assert rows[shadowed.pk]["shadowed_by"] == winner.pk
    assert rows[shadowed.pk]["never_matched"] is False
    assert rows[never.pk]["never_matched"] is True
    assert rows[duplicate.pk]["duplicate_of"] == [winner.pk]
    assert rows[winner.pk]["duplicate_of"] == [duplicate.pk]
    ordered = client.get("/api/v2/rules/health?ordering=-hits_24h").json()["results"]
    assert ordered[0]["rule_id"] == winner.pk
    assert client.get("/api/v2/rules/health?ordering=bogus").status_code == 400


# ---------------------------------------------------------------------------
# Responses match the published OpenAPI schema (drf-spectacular)
# ---------------------------------------------------------------------------


def _json_schema(node):
    """OpenAPI 3.0 -> JSON Schema: ``nullable: true`` becomes a ``null`` type, refs point at $defs."""
    if isinstance(node, list):
        return [_json_schema(n) for n in node]
    if not isinstance(node, dict):
        return node
    out = {k: _json_schema(v) for k, v in node.items() if k != "nullable"}
    if "$ref" in out:
        out["$ref"] = out["$ref"].replace("#/components/schemas/", "#/$defs/")
    if node.get("nullable"):
        if "type" in out:
            out["type"] = [out["type"], "null"]
        if "enum" in out:
            out["enum"] = [*out["enum"], None]
        if "allOf" in out or "$ref" in out:
            out = {"anyOf": [out, {"type": "null"}]}
    return out


def _validator(path: str, method: str, status_code: int):
    import jsonschema
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    body = schema["paths"][path][method]["responses"][str(status_code)]["content"]["application/json"]["schema"]
    return jsonschema.Draft202012Validator(
        {**_json_schema(body), "$defs": _json_schema(schema["components"]["schemas"])}
    )


def test_rule_lab_responses_match_the_published_schema(client, empty_audit_log):
    make_rule(match_string="down")
    explained = post(client, "/api/v2/rules/test", {"events": [{"hostname": "r1", "message": "link down"}]})
    _validator("/api/v2/rules/test", "post", 200).validate(explained.json())
    too_many = post(client, "/api/v2/rules/test", {"events": [{"hostname": "r", "message": "m"}] * 1001})
    _validator("/api/v2/rules/test", "post", 413).validate(too_many.json())
    body = {"rules": [{"match_string": "x", "prod_handling": "Log_only", "dev_handling": "Log_only"}]}
    started = post(client, "/api/v2/rules/backtest", body)
    _validator("/api/v2/rules/backtest", "post", 202).validate(started.json())
    _validator("/api/v2/rules/backtest", "post", 409).validate(post(client, "/api/v2/rules/backtest", body).json())
    status_body = client.get(f"/api/v2/rules/backtest/{started.json()['id']}").json()
    _validator("/api/v2/rules/backtest/{backtest_id}", "get", 200).validate(status_body)
    rule_health_compute()
    _validator("/api/v2/rules/health", "get", 200).validate(client.get("/api/v2/rules/health").json())


def test_a_backtest_result_is_forgotten_after_24_hours(client):
    body = {"rules": [{"match_string": "x", "prod_handling": "Log_only", "dev_handling": "Log_only"}]}
    backtest_id = post(client, "/api/v2/rules/backtest", body).json()["id"]
    client.post(f"/api/v2/rules/backtest/{backtest_id}/cancel")
    assert client.get(f"/api/v2/rules/backtest/{backtest_id}").status_code == 200
    RuleBacktest.objects.filter(pk=backtest_id).update(created_at=datetime.now(UTC) - timedelta(hours=25))
    gone = client.get(f"/api/v2/rules/backtest/{backtest_id}")
    assert gone.status_code == 404
    assert "detail" in gone.json()


def test_the_rule_health_job_runs_on_a_maintenance_worker(client, empty_audit_log, workers):
    from mutt_project.celery import app
    from mutt_project.queues import TaskName

    rule = make_rule(match_string="link")
    seed_audit([{"message": "link down", "rule_id": rule.pk}])
    workers.start(queues="maintenance")
    app.send_task(TaskName.RULE_HEALTH.value)
    rows = wait_for(lambda: client.get("/api/v2/rules/health").json()["results"], 30, message="rule health rows")
    assert [(r["rule_id"], r["hits_24h"], r["never_matched"]) for r in rows] == [(rule.pk, 1, False)]


def test_only_the_owner_cancels_a_backtest(client):
    body = {"rules": [{"match_string": "x", "prod_handling": "Log_only", "dev_handling": "Log_only"}]}
    backtest_id = post(client, "/api/v2/rules/backtest", body).json()["id"]
    other = Client()
    other.force_login(get_user_model().objects.create_user("someone-else", password="pw-not-a-secret"))
    assert other.post(f"/api/v2/rules/backtest/{backtest_id}/cancel").status_code == 403
    assert RuleBacktest.objects.get(pk=backtest_id).status == "queued"


def test_sample_severity_names_are_read_as_ingest_reads_them(client):
    make_rule(match_string="down", syslog_severity=3)
    events = [
        {"hostname": "r", "message": "down", "severity": "err"},
        {"hostname": "r", "message": "down", "severity": "info"},
    ]
    results = post(client, "/api/v2/rules/test", {"events": events}).json()["results"]
    assert [r["decision"]["matched"] for r in results] == [True, False]


def test_rule_health_replays_at_most_the_newest_events_it_is_allowed(client, empty_audit_log):
    rule = make_rule(match_string="link")
    now = datetime.now(UTC)
    seed_audit([{"message": "link down", "received_at": now - timedelta(minutes=m)} for m in range(1, 6)])
    assert rule_health_compute(max_events=2)["replayed_events"] == 2
    row = client.get("/api/v2/rules/health").json()["results"][0]
    assert (row["rule_id"], row["candidates"], row["replayed_events"]) == (rule.pk, 2, 2)
    assert datetime.fromisoformat(row["replay_since"]) == now - timedelta(minutes=3)
    assert rule_health_compute()["replayed_events"] == 5
