"""Login brute-force protection over HTTP against a live server: lockout, audit row, admin unlock."""

from __future__ import annotations

import re

import pytest
import requests
from axes.models import AccessAttempt
from django.contrib.auth import get_user_model

from alerts.models import ConfigAuditLog
from alerts.services.login_protection import LOCKOUT_ACTOR
from mutt_project.client_ip import forwarded_client

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "right-password-for-lockout-test"


def _login(base: str, username: str, password: str) -> tuple[requests.Session, requests.Response]:
    session = requests.Session()
    form = session.get(base + "/admin/login/", timeout=10)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.text).group(1)
    answer = session.post(
        base + "/admin/login/?next=/admin/",
        data={"csrfmiddlewaretoken": token, "username": username, "password": password, "next": "/admin/"},
        headers={"Referer": base + "/admin/login/"},
        allow_redirects=False,
        timeout=10,
    )
    return session, answer


def _logged_in(answer: requests.Response) -> bool:
    return answer.status_code == 302 and answer.headers["Location"].endswith("/admin/")


def test_five_wrong_passwords_lock_the_account_until_an_admin_unlocks_it(live_server):
    base = live_server.url
    users = get_user_model().objects
    users.create_superuser("oncall", "oncall@example.net", PASSWORD)
    users.create_superuser("lead", "lead@example.net", PASSWORD)

    for _ in range(5):
        _, answer = _login(base, "oncall", "wrong-password")
        assert answer.status_code in (200, 429) and not _logged_in(answer)
    _, answer = _login(base, "oncall", PASSWORD)
    assert answer.status_code == 429 and "Too many failed logins" in answer.text
    assert "sessionid" not in answer.cookies

    lockouts = ConfigAuditLog.objects.filter(changed_by=LOCKOUT_ACTOR, table_name=AccessAttempt._meta.db_table)
    assert lockouts.exists()
    assert lockouts.first().new_values["username"] == "oncall"

    # Another administrator (same address, other username: not locked) unlocks in the admin.
    admin, answer = _login(base, "lead", PASSWORD)
    assert _logged_in(answer)
    attempt = AccessAttempt.objects.get(username="oncall")
    page = admin.get(base + "/admin/axes/accessattempt/", timeout=10)
    assert page.status_code == 200 and "oncall" in page.text
    token = admin.cookies["csrftoken"]
    done = admin.post(
        base + "/admin/axes/accessattempt/",
        data={"csrfmiddlewaretoken": token, "action": "unlock", "_selected_action": [attempt.pk]},
        headers={"Referer": base + "/admin/axes/accessattempt/"},
        timeout=10,
    )
    assert done.status_code == 200 and "1 unlocked" in done.text
    assert ConfigAuditLog.objects.filter(changed_by="lead", table_name=AccessAttempt._meta.db_table).exists()

    _, answer = _login(base, "oncall", PASSWORD)
    assert _logged_in(answer)


def test_forwarded_address_is_read_from_the_right():
    assert forwarded_client("6.6.6.6, 10.0.0.7", 1) == "10.0.0.7"  # the left is whatever the client wrote
    assert forwarded_client("6.6.6.6, 10.0.0.7, 10.0.0.1", 2) == "10.0.0.7"
    assert forwarded_client("", 1) is None


def test_forwarded_for_is_ignored_unless_behind_a_proxy(rf, settings):
    from mutt_project.client_ip import client_ip

    request = rf.get("/", HTTP_X_FORWARDED_FOR="6.6.6.6", REMOTE_ADDR="192.0.2.9")
    settings.MUTT_BEHIND_PROXY = False
    assert client_ip(request) == "192.0.2.9"
    settings.MUTT_BEHIND_PROXY = True
    assert client_ip(request) == "6.6.6.6"
