"""LOG_FORMAT=json: one JSON object per line, and one grep by correlation id follows an event
from the ingest request through classification to the Moogsoft POST (real web process, real worker)."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest
import requests

from mutt_project.log_format import ContextFilter, JsonFormatter, RedactFilter, log_context
from mutt_project.version import VERSION
from tests.alerts.factories import make_rule
from tests.conftest import wait_for

LOG_ENV = {"LOG_FORMAT": "json", "LOG_LEVEL": "DEBUG"}


@pytest.fixture
def web_server_env() -> dict:
    return LOG_ENV


def _json_lines(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


def test_a_record_is_one_json_object_with_the_context_and_no_secret(settings):
    settings.INGEST_API_KEYS = ["sekret-ingest-key-123"]
    RedactFilter._secrets = None  # read the settings again
    record = logging.LogRecord(
        "mutt.test", logging.WARNING, __file__, 1, "key %s refused", ("sekret-ingest-key-123",), None
    )
    with log_context(correlation_id="c0ffee"):
        assert ContextFilter().filter(record) and RedactFilter().filter(record)
    line = JsonFormatter().format(record)
    RedactFilter._secrets = None
    body = json.loads(line)
    assert "\n" not in line
    assert {"timestamp", "level", "process", "logger", "message"} <= body.keys()
    assert body["level"] == "WARNING" and body["logger"] == "mutt.test" and body["correlation_id"] == "c0ffee"
    assert body["message"] == "key [redacted] refused" and "sekret" not in line


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_one_grep_follows_an_event_from_ingest_to_the_moogsoft_post(web_server, workers, moog_sink, api_key, tmp_path):
    make_rule(match_string="link down", prod_handling="Page_and_ticket")
    worker = workers.start("classify,forward", env=LOG_ENV, loglevel="DEBUG")
    event = {"timestamp": datetime.now(UTC).isoformat(), "hostname": "edge-9", "message": "link down"}
    answer = requests.post(
        web_server + "/api/v2/ingest",
        data=orjson.dumps(event),
        headers={"X-API-Key": api_key, "Content-Type": "application/json"},
        timeout=10,
    )
    correlation_id = answer.json()["correlation_id"]
    wait_for(lambda: moog_sink.received(), timeout=60, message="alert delivered")
    web_log = (tmp_path / "web.log").read_text()
    worker_log = Path(worker.logfile.name)
    wait_for(lambda: "moogsoft POST" in worker_log.read_text(), timeout=60, message="POST logged")

    path = [
        line
        for line in _json_lines(web_log) + _json_lines(worker_log.read_text())
        if correlation_id in json.dumps(line)
    ]
    messages = " | ".join(line["message"] for line in path)
    assert any(m.startswith("ingest: accepted") for m in messages.split(" | ")), messages
    assert "classify batch" in messages and "moogsoft POST 200" in messages
    assert all({"timestamp", "level", "process", "logger", "message"} <= line.keys() for line in path)
    assert api_key not in web_log and api_key not in worker_log.read_text()


@pytest.mark.parametrize(
    "name", ["DB_PASS_CURRENT", "DB_PASS_PREVIOUS", "REDIS_PASS_NEXT", "EMAIL_HOST_PASSWORD", "VAULT_SECRET_ID"]
)
def test_rotation_email_and_vault_secrets_are_redacted(name, monkeypatch):
    monkeypatch.setenv(name, f"value-of-{name.lower()}-42")
    RedactFilter._secrets = None
    record = logging.LogRecord("mutt.test", logging.ERROR, __file__, 1, "connect failed with %s", (f"value-of-{name.lower()}-42",), None)  # fmt: skip
    try:
        RedactFilter().filter(record)
    finally:
        RedactFilter._secrets = None
    assert record.getMessage() == "connect failed with [redacted]"


def test_a_line_says_which_service_release_host_and_code_wrote_it():
    record = logging.LogRecord("mutt.test", logging.INFO, "/app/forwarding/client.py", 42, "sent", None, None)
    record.funcName = "moog_post"
    body = json.loads(JsonFormatter().format(record))
    assert body["service"] and body["version"] == VERSION and body["host"]
    assert (body["module"], body["function"], body["line"]) == ("client", "moog_post", 42)
