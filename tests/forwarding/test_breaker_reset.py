"""An operator resets the open Moogsoft breaker (API, manage.py): the next alert goes at once, audited."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from alerts.models import ConfigAuditLog
from forwarding.circuit_breaker import breaker_status
from forwarding.services import outbox_forward
from remediation.operator_actions import BREAKER_AUDIT_TABLE
from tests.api.conftest import make_client, writer  # noqa: F401 - fixtures
from tests.forwarding.factories import outbox_rows
from tests.forwarding.test_forward_failures import moog  # noqa: F401 - fixture

pytestmark = pytest.mark.django_db(transaction=True)


def _open_breaker(moog, settings) -> None:  # noqa: F811
    settings.MOOG_CIRCUIT_BREAKER_THRESHOLD = 2
    settings.MOOG_CIRCUIT_BREAKER_TIMEOUT = 3600  # no half-open probe during the test
    moog.control(status=503)
    outbox_rows(2)
    outbox_forward(time_slice=1)
    assert breaker_status()["state"] == "open"
    moog.control()  # Moogsoft is back
    moog.clear()


def test_reset_through_the_api_sends_the_next_alert_at_once(moog, settings, writer):  # noqa: F811
    _open_breaker(moog, settings)
    outbox_rows(1)
    outbox_forward(time_slice=1)
    assert moog.received() == [], "open: nothing is sent before the reset"

    answer = writer.post("/api/v2/moog/breaker/reset", {"reason": "Moogsoft back"}, format="json")

    assert answer.status_code == 200, answer.content
    assert answer.json()["before"]["state"] == "open" and answer.json()["after"]["state"] == "closed"
    outbox_forward(time_slice=1)
    assert len(moog.received()) >= 1
    row = ConfigAuditLog.objects.get(table_name=BREAKER_AUDIT_TABLE)
    assert row.old_values["state"] == "open" and row.new_values["state"] == "closed"
    assert row.reason == "Moogsoft back" and row.changed_by


def test_reset_needs_a_write_key(make_client):  # noqa: F811
    reader = make_client("read")
    assert reader.post("/api/v2/moog/breaker/reset", {}, format="json").status_code == 403
    assert ConfigAuditLog.objects.filter(table_name=BREAKER_AUDIT_TABLE).count() == 0


def test_manage_py_reset(moog, settings):  # noqa: F811
    _open_breaker(moog, settings)
    out = io.StringIO()
    call_command("moog_breaker_reset", "--reason", "after maintenance", "--user", "ops", stdout=out)
    assert "was open" in out.getvalue() and breaker_status()["state"] == "closed"
    assert ConfigAuditLog.objects.get(table_name=BREAKER_AUDIT_TABLE).changed_by == "ops"


def test_admin_resets_the_breaker_from_the_outbox_page(moog, settings, admin_client, admin_user):  # noqa: F811
    _open_breaker(moog, settings)
    page = admin_client.get("/admin/alerts/alertoutbox/").content.decode()
    assert 'class="breaker-state">open<' in page
    answer = admin_client.post("/admin/alerts/alertoutbox/breaker-reset/", {"reason": "vendor fixed it"})
    assert answer.status_code == 302 and breaker_status()["state"] == "closed"
    row = ConfigAuditLog.objects.get(table_name=BREAKER_AUDIT_TABLE)
    assert row.changed_by == admin_user.username and row.reason == "vendor fixed it"
    assert admin_client.get("/admin/alerts/alertoutbox/breaker-reset/").status_code == 405
