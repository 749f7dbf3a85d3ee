"""/api/v2/config, /api/v2/metrics and /api/v1/slo: shapes, authentication, errors (DRF client, real PG/Redis)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone
from rest_framework.test import APIClient

from alerts.models import EventAuditLog
from alerts.pipeline_stats import classified_record, eps_record, forwarded_record, ingest_failure_record
from mutt_project.redis_client import get_redis

pytestmark = pytest.mark.django_db


@pytest.fixture
def user_api():
    client = APIClient()
    client.force_authenticate(get_user_model().objects.create_user("viewer", "v@example.net", "pw-not-a-secret"))
    return client


def test_anonymous_requests_are_refused_with_json(client, redis_client):
    for path in ("/api/v2/config", "/api/v2/metrics", "/api/v1/slo", "/api/v2/slo"):
        answer = client.get(path)
        assert answer.status_code in (401, 403) and "detail" in answer.json()
    assert client.get("/").status_code == 302  # the dashboard sends to the login page


def test_a_non_staff_user_may_read_settings_but_not_change_them(user_api, redis_client):
    assert "moog_rate_limit" in user_api.get("/api/v2/config").json()["settings"]
    assert user_api.put("/api/v2/config", {"settings": {"moog_rate_limit": 5}}, format="json").status_code == 403


def test_metrics_in_the_reference_shape(user_api, redis_client):
    pipe = get_redis().pipeline()
    eps_record(pipe, 30)
    pipe.execute()
    classified_record(30, {"r1": 4})
    forwarded_record([{"correlation_id": "c", "hostname": "r1", "message": "down"}])
    body = user_api.get("/api/v2/metrics").json()
    assert body["counters"] == {"ingest_total": 30, "alerter_processed_total": 30, "moog_forwarded_total": 1}
    assert body["queues"] == {"ingest_queue_depth": 0, "alert_queue_depth": 0}
    assert body["circuit_breaker"] == {"moog_state": "CLOSED"}
    assert body["eps"]["1m"] == pytest.approx(0.5) and set(body["eps"]) == {"1m", "1h", "24h"}
    assert isinstance(body["timestamp"], float)


def test_slo_from_mutt_data(user_api, redis_client, settings):
    settings.SLO_LATENCY_SECONDS = 5
    pipe = get_redis().pipeline()
    for _ in range(999):
        eps_record(pipe, 1)
    pipe.execute()
    ingest_failure_record()
    now = timezone.now()
    EventAuditLog.objects.bulk_create(
        [
            EventAuditLog(
                received_at=now - timedelta(minutes=1),
                event_timestamp=now,
                processed_at=now - timedelta(minutes=1) + timedelta(seconds=1 if i < 9 else 60),
                hostname="h",
                message="m",
                source="syslog",
                handling="Log_only",
                correlation_id=f"00000000-0000-0000-0000-00000000000{i}",
                raw_payload={},
            )
            for i in range(10)
        ]
    )
    body = user_api.get("/api/v1/slo").json()
    assert body["slos"]["ingest_availability"]["actual"] == pytest.approx(0.999)
    assert body["slos"]["ingest_availability"]["compliant"] is True
    assert body["slos"]["alerter_latency"]["actual"] == pytest.approx(0.9)
    assert body["slos"]["alerter_latency"]["compliant"] is False
    assert body["overall_compliant"] is False
    assert user_api.get("/api/v2/slo?window_hours=0").status_code == 400


def test_a_queue_nobody_answers_for_30_seconds_shows_red(redis_client):
    import time

    from remediation.heartbeat import queue_heartbeat_record
    from remediation.status import queues_health

    now = time.time()
    queue_heartbeat_record("classify", now=now - 5)
    queue_heartbeat_record("forward", now=now - 31)
    health = queues_health(now=now)
    assert health["classify"]["ok"] is True
    assert health["forward"]["ok"] is False  # stopped answering
    assert health["maintenance"] == {"age": None, "ok": False}  # never answered


def test_admin_is_branded_and_links_to_the_console(client, redis_client):
    client.force_login(get_user_model().objects.create_superuser("root", "r@example.net", "pw-not-a-secret"))
    page = client.get("/admin/").content.decode()
    assert "MUTT administration" in page and "Django administration" not in page
    assert 'href="/"' in page and "/api/docs/" in page and "Flower" in page
