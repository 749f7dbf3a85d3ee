"""Single sign-on against a local OIDC provider started by the test: the user is created with the role
its groups map to; a read-role user is refused (403) changing a rule in the admin and in the API."""

from __future__ import annotations

import re

import pytest
import requests
from django.contrib.auth import get_user_model

from alerts.models import AlertRule
from mutt_project.sso import role_from_groups
from tests.alerts.factories import make_rule
from tests.oidc_standin import OidcStandin

pytestmark = pytest.mark.django_db(transaction=True)

USERS = {
    "reader": {"sub": "u-1", "preferred_username": "reader", "email": "r@example.net", "groups": ["mutt-read"]},
    "lead": {"sub": "u-2", "preferred_username": "lead", "email": "l@example.net", "groups": ["staff", "mutt-admin"]},
    "stranger": {"sub": "u-3", "preferred_username": "stranger", "email": "s@example.net", "groups": ["sales"]},
}


@pytest.fixture
def provider(settings):
    standin = OidcStandin("mutt", "mutt-client-secret", USERS)
    settings.MUTT_OIDC_ENABLED = True
    settings.OIDC_RP_CLIENT_ID = "mutt"
    settings.OIDC_RP_CLIENT_SECRET = "mutt-client-secret"
    for name, url in standin.endpoints().items():
        setattr(settings, name, url)
    settings.AUTHENTICATION_BACKENDS = [*settings.AUTHENTICATION_BACKENDS, "mutt_project.sso.MuttOIDCBackend"]
    yield standin
    standin.close()


def _sso_login(base: str, login: str) -> tuple[requests.Session, requests.Response]:
    session = requests.Session()
    start = session.get(base + "/oidc/authenticate/?next=/admin/", allow_redirects=False, timeout=10)
    assert start.status_code == 302 and "/authorize?" in start.headers["Location"]
    at_provider = session.get(start.headers["Location"] + "&login=" + login, allow_redirects=False, timeout=10)
    assert at_provider.status_code == 302
    back = session.get(at_provider.headers["Location"], allow_redirects=False, timeout=30)
    return session, back


def test_roles_from_groups():
    assert role_from_groups(["x", "mutt-admin", "mutt-read"], ["mutt-admin"], ["mutt-write"], ["mutt-read"]) == "admin"
    assert role_from_groups(["mutt-read"], ["mutt-admin"], ["mutt-write"], ["mutt-read"]) == "read"
    assert role_from_groups(["sales"], ["mutt-admin"], ["mutt-write"], ["mutt-read"]) is None


def test_sso_creates_users_with_their_role_and_a_reader_cannot_change_a_rule(live_server, provider):
    base = live_server.url
    rule = make_rule(priority=500)

    reader, answer = _sso_login(base, "reader")
    assert answer.status_code == 302 and answer.headers["Location"].endswith("/admin/")
    user = get_user_model().objects.get(username="reader")
    assert user.is_staff and not user.is_superuser and not user.has_usable_password()
    assert list(user.groups.values_list("name", flat=True)) == ["mutt-read"]

    change_url = base + f"/admin/alerts/alertrule/{rule.pk}/change/"
    page = reader.get(change_url, timeout=10)
    assert page.status_code == 200  # may look
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    posted = reader.post(change_url, data={"csrfmiddlewaretoken": token, "priority": "5"},
                         headers={"Referer": change_url}, timeout=10)  # fmt: skip
    assert posted.status_code == 403
    api = reader.patch(base + f"/api/v2/rules/{rule.pk}", json={"priority": 5},
                       headers={"X-CSRFToken": reader.cookies["csrftoken"], "Referer": base + "/"}, timeout=10)  # fmt: skip
    assert api.status_code == 403 and "write scope" in api.text
    assert AlertRule.objects.get(pk=rule.pk).priority == 500

    lead, answer = _sso_login(base, "lead")
    assert get_user_model().objects.get(username="lead").is_superuser
    lead.get(base + "/admin/", timeout=10)
    api = lead.patch(base + f"/api/v2/rules/{rule.pk}", json={"priority": 7, "reason": "sso test"},
                     headers={"X-CSRFToken": lead.cookies["csrftoken"], "Referer": base + "/"}, timeout=10)  # fmt: skip
    assert api.status_code == 200, api.text  # the same request with the admin role goes through

    _, answer = _sso_login(base, "stranger")  # no MUTT group: no account
    assert not get_user_model().objects.filter(username="stranger").exists()


def test_local_logins_off_except_the_break_glass_account(rf, settings):
    from django.contrib.auth import authenticate

    users = get_user_model().objects
    users.create_superuser("admin", "a@example.net", "break-glass-pw-1")
    users.create_superuser("alice", "al@example.net", "alice-pw-1")
    settings.MUTT_LOCAL_LOGIN = False
    settings.MUTT_BREAK_GLASS_USER = "admin"
    request = rf.post("/admin/login/")
    assert authenticate(request, username="alice", password="alice-pw-1") is None
    assert authenticate(request, username="admin", password="break-glass-pw-1").username == "admin"
    settings.MUTT_LOCAL_LOGIN = True
    assert authenticate(request, username="alice", password="alice-pw-1").username == "alice"
