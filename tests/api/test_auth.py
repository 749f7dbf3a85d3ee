"""Who may call the API: hashed keys with scopes (X-API-Key or Bearer), session login with CSRF, rate limit."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from rest_framework.test import APIClient

from alerts.models import AlertRule, ApiKey, ConfigAuditLog
from tests.api.conftest import RULE

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("headers", [{}, {"HTTP_X_API_KEY": "nope.nope"}, {"HTTP_AUTHORIZATION": "Bearer nope"}])
def test_no_or_wrong_key_is_401_json(anonymous, headers):
    response = anonymous.get("/api/v2/rules", **headers)
    assert response.status_code == 401
    assert response.json()["error"] == "Authentication required"
    assert response.headers["WWW-Authenticate"]


def test_bearer_header_works_like_x_api_key(writer):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {writer.key}")
    assert client.post("/api/v2/rules", RULE, format="json").status_code == 201


def test_read_key_may_get_but_not_write(reader):
    assert reader.get("/api/v2/rules").status_code == 200
    response = reader.post("/api/v2/rules", RULE, format="json")
    assert response.status_code == 403 and response.json()["error"] == "Permission denied"
    assert not AlertRule.objects.exists()


def test_revoked_key_is_refused(writer):
    ApiKey.objects.update(revoked=True)
    assert writer.get("/api/v2/rules").status_code == 401


def test_key_is_stored_only_as_a_hash(writer):
    row = ApiKey.objects.get(name="ci-pipeline")
    assert writer.key not in (row.id, row.hashed_key, row.prefix)
    assert row.hashed_key.startswith("sha512$$")


def test_create_api_key_command_prints_the_key_alone_on_its_last_line(capsys):
    call_command("create_api_key", "--name", "deploy-bot", "--scope", "admin")
    key = capsys.readouterr().out.strip().splitlines()[-1]
    client = APIClient()
    client.credentials(HTTP_X_API_KEY=key)
    assert client.get("/api/v2/audit-logs").status_code == 200
    assert ApiKey.objects.get(name="deploy-bot").scope == "admin"


def test_session_login_works_and_writes_need_the_csrf_token():
    user = get_user_model().objects.create_user("ops", password="pw-123456", is_staff=True)
    client = APIClient(enforce_csrf_checks=True)
    client.get("/admin/login/")  # the login form sets the CSRF cookie, as in a browser
    login = client.post(
        "/admin/login/",
        {"username": user.username, "password": "pw-123456", "csrfmiddlewaretoken": client.cookies["csrftoken"].value},
        format="multipart",
    )
    assert login.status_code == 302
    assert client.get("/api/v2/rules").status_code == 200

    refused = client.post("/api/v2/rules", RULE, format="json")
    assert refused.status_code == 403 and "CSRF" in refused.json()["detail"]["message"]

    token = client.cookies["csrftoken"].value
    created = client.post("/api/v2/rules", RULE, format="json", HTTP_X_CSRFTOKEN=token)
    assert created.status_code == 201
    assert AlertRule.objects.get().created_by == "ops"


def test_non_staff_user_is_read_only():
    user = get_user_model().objects.create_user("viewer", password="pw-123456")
    client = APIClient()
    client.force_login(user)
    assert client.get("/api/v2/rules").status_code == 200
    assert client.post("/api/v2/rules", RULE, format="json").status_code == 403


def test_too_many_requests_is_429_with_retry_after(reader, settings):
    settings.API_THROTTLE_RATE = "3/min"
    from django.core.cache import cache

    cache.clear()
    codes = [reader.get("/api/v2/rules").status_code for _ in range(4)]
    last = reader.get("/api/v2/rules")
    assert codes[:3] == [200, 200, 200] and last.status_code == 429
    assert last.json()["error"] == "Too many requests" and int(last.headers["Retry-After"]) > 0
    cache.clear()


def test_schema_and_swagger_ui_are_served_without_a_cdn(anonymous):
    schema = anonymous.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    assert {"/api/v2/rules", "/api/v2/events", "/api/v2/dead-letters/{id}/replay", "/api/v1/teams"} <= set(paths)
    page = anonymous.get("/api/docs/")
    html = page.content.decode()
    assert page.status_code == 200 and "swagger-ui" in html
    assert "cdn" not in html.lower() and "/static/drf_spectacular_sidecar/" in html


def test_admin_key_manages_keys_and_a_write_key_may_not(make_client, writer):
    admin = make_client("admin", "ops-admin")
    assert writer.get("/api/v2/api-keys").status_code == 403

    created = admin.post(
        "/api/v2/api-keys", {"name": "grafana", "scope": "read", "reason": "dashboards"}, format="json"
    )
    assert created.status_code == 201
    new_key, prefix = created.json()["key"], created.json()["prefix"]
    assert new_key.startswith(prefix) and created.json()["api_key"]["scope"] == "read"
    listed = admin.get("/api/v2/api-keys").json()["api_keys"]
    assert {k["name"] for k in listed} == {"ops-admin", "ci-pipeline", "grafana"}
    assert all("key" not in k and "hashed_key" not in k for k in listed)

    grafana = APIClient()
    grafana.credentials(HTTP_X_API_KEY=new_key)
    assert grafana.get("/api/v2/rules").status_code == 200

    assert admin.delete(f"/api/v2/api-keys/{prefix}?reason=leaked").status_code == 200
    assert grafana.get("/api/v2/rules").status_code == 401
    assert admin.delete(f"/api/v2/api-keys/{prefix}").status_code == 409
    audit = list(
        ConfigAuditLog.objects.filter(table_name="api_keys")
        .order_by("id")
        .values_list("operation", "changed_by", "reason")
    )
    assert audit == [("CREATE", "ops-admin", "dashboards"), ("DELETE", "ops-admin", "leaked")]


def test_admin_makes_a_scoped_key_and_shows_it_once(client):
    client.force_login(get_user_model().objects.create_superuser("root", "root@localhost", "pw-123456"))

    response = client.post("/admin/alerts/apikey/add/", {"name": "nagios", "scope": "read"}, follow=True)

    assert response.status_code == 200
    shown = [str(m) for m in response.context["messages"] if "nagios" in str(m)]
    key = shown[0].split("is: ")[1].split(". ")[0]
    api = APIClient()
    api.credentials(HTTP_X_API_KEY=key)
    assert api.get("/api/v2/rules").status_code == 200
    assert api.post("/api/v2/rules", RULE, format="json").status_code == 403
    assert ApiKey.objects.get(name="nagios").scope == "read"
