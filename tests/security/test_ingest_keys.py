"""Ingest keys: named, hashed, revocable; a revoked key is refused by every ingest process within 5 s
(measured on PostgreSQL's clock from the revocation stamp), and rotation keeps the other key working."""

from __future__ import annotations

import orjson
import pytest
import requests
from django.db import connection

from alerts.models import ConfigAuditLog, IngestKey
from alerts.models.ingest_keys import ingest_key_hash
from alerts.services.ingest_keys import ingest_key_create, ingest_key_revoke, ingest_keys_import_environment
from ingest.auth import api_key_valid
from tests.conftest import wait_for

pytestmark = pytest.mark.django_db(transaction=True)

EVENT = orjson.dumps({"hostname": "r1", "message": "link down", "timestamp": "2026-01-01T00:00:00Z"})


def _post(url: str, key: str) -> int:
    return requests.post(
        url + "/api/v2/ingest", data=EVENT, headers={"X-API-Key": key, "Content-Type": "application/json"}, timeout=30
    ).status_code


def _db_now():
    with connection.cursor() as cursor:
        cursor.execute("SELECT clock_timestamp()")
        return cursor.fetchone()[0]


@pytest.mark.integration
def test_a_revoked_key_is_refused_by_every_ingest_process_within_5_seconds(mutt_server, redis_client):
    old, old_key = ingest_key_create(name="sender-old", changed_by="ops")
    _, new_key = ingest_key_create(name="sender-new", changed_by="ops")  # rotation: both valid for a while
    urls = [mutt_server("ingest") for _ in range(3)]
    for url in urls:
        assert _post(url, old_key) == 202 and _post(url, new_key) == 202

    revoked_at = ingest_key_revoke(key=old, changed_by="ops", reason="rotated").revoked_at
    delays = {}
    for url in urls:
        wait_for(lambda u=url: _post(u, old_key) == 401, timeout=30, interval=0.1, message=f"{url} refusing")
        delays[url] = (_db_now() - revoked_at).total_seconds()  # an upper bound: seen refusing by then
    assert max(delays.values()) < 5.0, delays
    assert all(_post(url, new_key) == 202 for url in urls)  # the new key never stopped working
    assert ConfigAuditLog.objects.filter(table_name="ingest_keys", changed_by="ops").count() == 3


def test_environment_keys_are_imported_once_and_a_revoked_one_stays_revoked(settings):
    settings.INGEST_API_KEYS = ["legacy-env-key-1"]
    assert ingest_keys_import_environment() == 1
    assert ingest_keys_import_environment() == 0
    row = IngestKey.objects.get(key_hash=ingest_key_hash("legacy-env-key-1"))
    assert row.imported and "legacy-env-key-1" not in (row.name + row.prefix + row.key_hash)
    assert api_key_valid("legacy-env-key-1")
    ingest_key_revoke(key=row, changed_by="ops")
    assert ingest_keys_import_environment() == 0  # not brought back by the next migrate
    settings.INGEST_KEY_REFRESH_SECONDS = 0
    assert not api_key_valid("legacy-env-key-1")


def test_ingest_keys_through_the_api(client):
    from alerts.services.api_keys import api_key_create

    _, admin = api_key_create(name="admin", scope="admin")
    _, reader = api_key_create(name="reader", scope="read")
    made = client.post("/api/v2/ingest-keys", {"name": "syslog-a"}, content_type="application/json",
                       HTTP_X_API_KEY=admin)  # fmt: skip
    assert made.status_code == 201, made.content
    key, row = made.json()["key"], made.json()["ingest_key"]
    assert row["name"] == "syslog-a" and key.startswith(row["prefix"]) and "key_hash" not in row
    listed = client.get("/api/v2/ingest-keys", HTTP_X_API_KEY=admin).json()
    assert "syslog-a" in str(listed) and key not in str(listed)
    assert client.get("/api/v2/ingest-keys", HTTP_X_API_KEY=reader).status_code == 403
    assert client.delete(f"/api/v2/ingest-keys/{row['id']}", HTTP_X_API_KEY=reader).status_code == 403
    assert client.delete(f"/api/v2/ingest-keys/{row['id']}", HTTP_X_API_KEY=admin).status_code == 200
    assert IngestKey.objects.get(pk=row["id"]).revoked_at is not None
