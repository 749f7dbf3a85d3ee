"""POST /api/v2/ingest through Django: formats, partial acceptance, every error status, limits, auth."""

from __future__ import annotations

import gzip
import uuid

import orjson
import pytest
from django.test import override_settings
from prometheus_client import REGISTRY

from alerts.models import IngestBatch
from ingest.counters import eps_rates
from tests.conftest import wait_for
from tests.ingest.conftest import URL, event, stored_events

pytestmark = pytest.mark.django_db


def ndjson(*events) -> bytes:
    return b"\n".join(orjson.dumps(e) for e in events) + b"\n"


def test_single_event_is_stored_and_answered_with_its_correlation_id(post, redis_client):
    response = post(orjson.dumps(event(hostname="Router-01", syslog_severity="crit")))
    assert response.status_code == 202
    assert response.json() == {"status": "accepted", "correlation_id": response.json()["correlation_id"]}
    [stored] = stored_events()
    assert stored["correlation_id"] == response.json()["correlation_id"]
    assert stored["hostname"] == "router-01" and stored["syslog_severity"] == 2
    batch = IngestBatch.objects.get()
    assert (batch.event_count, batch.status) == (1, "pending")
    assert stored["received_at"] == batch.received_at.isoformat()


def test_legacy_ingest_path_is_an_alias(post, redis_client):
    assert post(orjson.dumps(event()), path="/ingest").status_code == 202


@pytest.mark.parametrize(("body", "content_type"), [
    (b"[" + b",".join(orjson.dumps(event(message=f"m{i}")) for i in range(3)) + b"]", "application/json"),
    (ndjson(*(event(message=f"m{i}") for i in range(3))), "application/x-ndjson"),
    (b"\n" + ndjson(event(message="m0")) + b"\n\n" + ndjson(event(message="m1"), event(message="m2")) + b"\n",
     "text/plain"),  # blank lines ignored
    (orjson.dumps({"records": [{"value": event(message=f"m{i}")} for i in range(3)]}), "application/json"),
    (ndjson(*(event(message=f"m{i}") for i in range(3))), None),  # no content type at all
], ids=["json-array", "ndjson", "text-blank-lines", "kafka-records", "no-content-type"])  # fmt: skip
def test_batch_formats_are_one_row_with_every_event_in_order(post, redis_client, body, content_type):
    response = post(body, content_type=content_type)
    assert response.status_code == 202, response.json()
    assert response.json()["accepted"] == 3 and response.json()["rejected"] == []
    assert IngestBatch.objects.count() == 1
    events = stored_events()
    assert [e["message"] for e in events] == ["m0", "m1", "m2"]
    assert [e["correlation_id"] for e in events] == response.json()["correlation_ids"]


def test_gzip_body_is_decoded(post, redis_client):
    response = post(gzip.compress(ndjson(event(), event())), "application/x-ndjson", **{"Content-Encoding": "gzip"})
    assert response.status_code == 202 and response.json()["accepted"] == 2


def test_zip_bomb_is_refused_with_413_before_it_is_inflated(post):
    bomb = gzip.compress(b" " * 50_000_000)  # 50 MB of whitespace in ~50 kB
    response = post(bomb, "application/json", **{"Content-Encoding": "gzip"})
    assert response.status_code == 413
    assert "decompressed body larger than" in response.json()["error"]
    assert IngestBatch.objects.count() == 0


def test_mixed_batch_keeps_the_good_events_and_reports_the_bad_by_index(post, redis_client):
    cid = str(uuid.uuid4())
    body = (
        ndjson(
            event(message="good-0", correlation_id=cid),
            {"hostname": "h"},
            event(message="good-2"),
            event(trap_oid="IF-MIB::linkDown"),
        )
        + b"{broken\n"
    )
    response = post(body, "application/x-ndjson")
    assert response.status_code == 202
    data = response.json()
    assert data["accepted"] == 2
    assert [r["index"] for r in data["rejected"]] == [1, 3, 4]
    assert "message is required" in data["rejected"][0]["error"]
    assert "trap_oid" in data["rejected"][1]["error"]
    assert "not valid JSON" in data["rejected"][2]["error"]
    assert data["correlation_ids"][0] == cid
    assert [e["message"] for e in stored_events()] == ["good-0", "good-2"]


def test_nothing_usable_is_400_with_the_reasons(post):
    response = post(ndjson({"hostname": "h"}, {"message": "m"}), "application/x-ndjson")
    assert response.status_code == 400
    assert response.json()["error"] == "no valid event in the request"
    assert [r["index"] for r in response.json()["rejected"]] == [0, 1]
    single = post(orjson.dumps(event(syslog_severity=9)))
    assert single.status_code == 400 and "syslog_severity" in single.json()["error"]
    assert post(b"{this is not json").json() == {"error": "malformed JSON"}
    assert IngestBatch.objects.count() == 0


def test_non_utf8_and_raw_control_characters_are_refused_per_event(post, redis_client):
    body = b'{"timestamp": 1772359200, "hostname": "h", "message": "caf\xe9"}\n' + ndjson(event(message="ok"))
    body += b'{"timestamp": 1772359200, "hostname": "h", "message": "a\x01b"}\n'
    response = post(body, "application/x-ndjson")
    assert response.status_code == 202
    assert [r["index"] for r in response.json()["rejected"]] == [0, 2]
    assert [e["message"] for e in stored_events()] == ["ok"]


def test_escaped_control_characters_and_nul_are_stored(post, redis_client):
    response = post(orjson.dumps(event(message="tab\there\x00nul\x1b[0m", note="x\x00y")))
    assert response.status_code == 202
    [stored] = stored_events()
    assert stored["message"] == "tab\there\ufffdnul\x1b[0m" and stored["note"] == "x\ufffdy"


def test_one_megabyte_message_is_refused_by_default_and_accepted_when_allowed(post, redis_client):
    big = event(message="x" * 1_048_576)
    response = post(orjson.dumps(big))
    assert response.status_code == 400
    assert response.json()["error"] == "message longer than 65536 bytes"
    with override_settings(INGEST_MAX_MESSAGE_BYTES=2 * 1_048_576):
        assert post(orjson.dumps(big)).status_code == 202
    assert len(stored_events()[0]["message"]) == 1_048_576


@override_settings(INGEST_MAX_BODY_BYTES=2048)
def test_body_over_the_cap_is_413_json(post):
    response = post(orjson.dumps(event(message="x" * 3000)))
    assert response.status_code == 413
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"error": "body larger than 2048 bytes"}


@override_settings(INGEST_MAX_EVENTS_PER_REQUEST=2)
def test_too_many_events_is_413(post):
    response = post(ndjson(event(), event(), event()), "application/x-ndjson")
    assert response.status_code == 413
    assert response.json() == {"error": "more than 2 events in one request"}


@pytest.mark.parametrize(("headers", "content_type", "needle"), [
    ({}, "application/x-www-form-urlencoded", "unsupported content type"),
    ({}, "text/xml", "unsupported content type"),
    ({"Content-Encoding": "br"}, "application/json", "unsupported content encoding"),
])  # fmt: skip
def test_unsupported_content_type_or_encoding_is_415(post, headers, content_type, needle):
    response = post(orjson.dumps(event()), content_type, **headers)
    assert response.status_code == 415
    assert needle in response.json()["error"]


def test_get_is_405_json(client):
    response = client.get(URL)
    assert response.status_code == 405 and response["Allow"] == "POST"
    assert response.json()["error"] == "use POST"


def test_both_keys_of_a_rotation_are_accepted_in_either_header(client, redis_client):
    body = orjson.dumps(event())
    for headers in (
        {"X-API-Key": "test-ingest-key-1"},
        {"X-API-Key": "test-ingest-key-2"},
        {"Authorization": "Bearer test-ingest-key-2"},
    ):
        response = client.post(URL, body, content_type="application/json", headers=headers)
        assert response.status_code == 202, headers
    response = client.post(URL, body, content_type="application/json", headers={"X-API-Key": "test-ingest-key-3"})
    assert response.status_code == 401 and "API key" in response.json()["error"]


def test_an_ingest_key_opens_nothing_else(client):
    response = client.get("/admin/", headers={"X-API-Key": "test-ingest-key-1"})
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


@override_settings(MAX_INGEST_QUEUE_SIZE=3, INGEST_BACKLOG_CHECK_SECONDS=0)
def test_backlog_over_the_limit_is_503_with_retry_after(post, redis_client):
    assert post(ndjson(*[event()] * 4), "application/x-ndjson").status_code == 202
    response = post(orjson.dumps(event()))
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert response.json() == {"error": "ingest backlog is full, retry later"}
    assert IngestBatch.objects.count() == 1


@pytest.mark.django_db(transaction=True)  # counters move on commit, as in production
def test_accepted_events_are_counted_for_the_dashboard_and_prometheus(post, redis_client):
    def sample(name, **labels):
        return REGISTRY.get_sample_value(name, labels) or 0.0

    before = (
        sample("mutt_ingest_events_total", result="accepted"),
        sample("mutt_ingest_events_total", result="rejected"),
        sample("mutt_ingest_requests_total", status="fail_auth", reason="unauthorized"),
    )
    post(ndjson(event(), event(), {"bad": 1}), "application/x-ndjson")
    post(orjson.dumps(event()), **{"X-API-Key": "wrong"})
    # Counted right after the commit by the ingest notifier thread.
    rates = wait_for(lambda: (r := eps_rates())["total"] == 2 and r, message="EPS counters")
    assert rates["last_minute"] == pytest.approx(2 / 60)
    assert rates["last_hour"] == pytest.approx(2 / 3600) and rates["last_day"] == pytest.approx(2 / 86400)
    after = (
        sample("mutt_ingest_events_total", result="accepted"),
        sample("mutt_ingest_events_total", result="rejected"),
        sample("mutt_ingest_requests_total", status="fail_auth", reason="unauthorized"),
    )
    assert [a - b for a, b in zip(after, before, strict=True)] == [2, 1, 1]
    assert sample("mutt_ingest_latency_seconds_count") > 0
