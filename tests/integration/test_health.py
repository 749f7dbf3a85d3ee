"""/health reports PostgreSQL and Redis, and recovers when they come back."""

import pytest
from django.db import connection

from mutt_project.redis_client import reset_redis

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def test_health_is_200_when_everything_is_up(client, redis_client):
    response = client.get("/health")
    assert response.status_code == 200
    assert response.json()["checks"] == {"postgres": "ok", "redis": "ok"}


def test_health_body_has_the_reference_guides_fields(client, redis_client):
    from alerts.models import IngestBatch
    from ingest.backpressure import backlog_forget

    IngestBatch.objects.create(events=[{"message": "m"}] * 3, event_count=3, received_at="2030-01-01T00:00:00Z")
    backlog_forget()
    body = client.get("/health").json()
    assert body["status"] == "healthy" and body["redis"] == "connected"
    assert body["queue_depth"] == 3
    assert body["timestamp"].endswith("Z")


def test_health_is_503_while_redis_is_stopped_and_200_after(client, redis_client, stop_service):
    stop_service("redis")
    reset_redis()
    response = client.get("/health")
    assert response.status_code == 503
    assert response.json()["checks"]["redis"] == "down"
    assert response.json()["redis"] == "disconnected" and response.json()["status"] == "unhealthy"
    stop_service.start()
    reset_redis()
    assert client.get("/health").status_code == 200


def test_health_is_503_while_postgres_is_stopped_and_200_after(client, redis_client, stop_service):
    stop_service("pg")
    connection.close()
    response = client.get("/health")
    assert response.status_code == 503
    assert response.json()["checks"] == {"postgres": "down", "redis": "ok"}
    stop_service.start()
    connection.close()
    assert client.get("/health").status_code == 200
