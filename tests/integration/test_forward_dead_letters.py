"""A 400 dead-letters the alert at once; the operator's "replay now" delivers it once Moogsoft accepts."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from alerts.models import AlertOutbox, ConfigAuditLog, DeadLetter, EventAuditLog
from alerts.wakeup import WakeKind, wake
from tests.conftest import wait_for
from tests.forwarding.factories import audited_outbox_row

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def admin_client(client, transactional_db):
    user = get_user_model().objects.create_superuser("oncall", "oncall@example.com", "pw")
    client.force_login(user)
    return client


def test_rejected_alert_is_dead_lettered_then_replayed_from_the_admin(workers, moog_sink, admin_client, settings):
    settings.MOOG_WEBHOOK_URL = moog_sink.url  # the admin action sends from this process
    moog_sink.control(status=400, body="field 'severity' invalid")
    audit, row = audited_outbox_row()
    workers.start("forward")
    wake(WakeKind.FORWARD)

    letter = wait_for(
        lambda: DeadLetter.objects.filter(correlation_id=row.correlation_id).first(), message="dead letter"
    )
    assert (letter.stage, letter.status, letter.response_status) == ("forward", "pending", 400)
    assert "field 'severity' invalid" in letter.last_error
    assert len(moog_sink.received()) == 1  # a permanent answer is not retried
    assert not AlertOutbox.objects.exists()
    assert EventAuditLog.objects.get(id=audit.id).forward_status == "dead"

    page = admin_client.get(f"/admin/alerts/deadletter/{letter.id}/change/")
    assert page.status_code == 200 and "severity" in page.content.decode()
    listing = admin_client.get("/admin/alerts/deadletter/?stage__exact=forward&status__exact=pending")
    assert str(letter.id) in listing.content.decode()

    moog_sink.control()  # Moogsoft accepts again
    response = admin_client.post(
        "/admin/alerts/deadletter/", {"action": "replay_now", "_selected_action": [letter.id]}, follow=True
    )

    assert [str(m) for m in response.context["messages"]] == ["Replay: replayed: 1."]
    accepted = moog_sink.received(accepted_only=True)
    assert [r["body"]["external_id"] for r in accepted] == [str(row.correlation_id)]
    letter.refresh_from_db()
    assert letter.status == "replayed"
    assert EventAuditLog.objects.get(id=audit.id).forward_status == "sent"
    change = ConfigAuditLog.objects.get(table_name="dead_letters", record_id=letter.id)
    assert (change.changed_by, change.reason) == ("oncall", "admin action: replay now")


def test_discard_retires_a_dead_letter_and_is_audited(moog_sink, admin_client):
    letter = DeadLetter.objects.create(
        stage="forward", payload={"hostname": "h"}, last_error="HTTP 400", response_status=400
    )

    admin_client.post("/admin/alerts/deadletter/", {"action": "discard", "_selected_action": [letter.id]})

    letter.refresh_from_db()
    assert letter.status == "discarded"
    assert ConfigAuditLog.objects.filter(
        table_name="dead_letters", record_id=letter.id, reason="admin action: discard"
    ).exists()
    assert moog_sink.received() == []


def test_outbox_discard_marks_the_audit_row_dead(moog_sink, admin_client):
    audit, row = audited_outbox_row()

    admin_client.post("/admin/alerts/alertoutbox/", {"action": "discard", "_selected_action": [row.id]})

    assert not AlertOutbox.objects.exists()
    assert EventAuditLog.objects.get(id=audit.id).forward_status == "dead"
    assert ConfigAuditLog.objects.filter(table_name="alert_outbox", record_id=row.id).exists()
