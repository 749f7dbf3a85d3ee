"""Priority classes: parsing the order, claiming by class, giving leased rows back in order."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone

from alerts.models import AlertOutbox
from forwarding.outbox_lease import outbox_claim, outbox_higher_due, outbox_release
from forwarding.priority import class_label, classes_parse, priority_classes
from tests.forwarding.factories import outbox_rows, outbox_seed


def test_default_order_drains_pages_before_tickets_and_everything_else_last():
    classes = classes_parse("Page_and_ticket,Page_only;Ticket_only")
    assert classes[:2] == (("Page_and_ticket", "Page_only"), ("Ticket_only",))
    assert set(classes[2]) == {"Email_only", "Log_only", "Suppress", ""}
    assert [class_label(c) for c in classes] == ["Page_and_ticket+Page_only", "Ticket_only", "other"]


@pytest.mark.parametrize("text", ["Page_only;Pager", "Page_only;Page_only,Ticket_only"])
def test_unknown_or_repeated_handling_is_refused(text):
    with pytest.raises(ImproperlyConfigured):
        classes_parse(text)


def test_accessor_follows_the_setting(settings):
    settings.FORWARD_PRIORITY_CLASSES = "Ticket_only;Page_and_ticket"
    assert priority_classes()[:2] == (("Ticket_only",), ("Page_and_ticket",))


@pytest.mark.django_db(transaction=True)  # now() is per statement transaction, as in a worker
def test_claim_takes_the_higher_class_first_and_oldest_first_within_it(settings):
    outbox_seed(50, "Ticket_only", waited=600)  # old tickets
    old_page = outbox_rows(1, handling="Page_only")[0]
    AlertOutbox.objects.filter(pk=old_page.pk).update(next_attempt_at=timezone.now() - timedelta(seconds=5))
    new_page = outbox_rows(1, handling="Page_and_ticket")[0]

    tickets = list(
        AlertOutbox.objects.filter(handling="Ticket_only")
        .order_by("next_attempt_at", "id")
        .values_list("id", flat=True)
    )

    claimed = outbox_claim(5)

    assert [r.id for r in claimed[:2]] == [old_page.id, new_page.id]
    assert all(r.payload["handling"] == "Ticket_only" for r in claimed[2:])
    assert [r.id for r in claimed[2:]] == tickets[:3]  # the oldest three


@pytest.mark.django_db(transaction=True)  # now() is per statement transaction, as in a worker
def test_a_changed_order_applies_at_the_next_claim(settings):
    page = outbox_rows(1, handling="Page_only")[0]
    ticket = outbox_rows(1, handling="Ticket_only")[0]
    settings.FORWARD_PRIORITY_CLASSES = "Ticket_only;Page_only,Page_and_ticket"

    assert [r.id for r in outbox_claim(1)] == [ticket.id]
    assert [r.id for r in outbox_claim(1)] == [page.id]


@pytest.mark.django_db(transaction=True)  # now() is per statement transaction, as in a worker
def test_released_rows_keep_their_place_and_higher_class_is_seen():
    outbox_seed(10, "Ticket_only", waited=60)
    first = outbox_claim(3)
    assert not outbox_higher_due(1)
    outbox_rows(1, handling="Page_and_ticket")
    assert outbox_higher_due(1)

    outbox_release(first)

    again = [r for r in outbox_claim(4) if r.rank == 1]
    assert [r.id for r in again] == [r.id for r in first]  # still the oldest tickets


@pytest.mark.django_db(transaction=True)
def test_an_operator_changes_the_order_at_runtime_and_a_bad_order_is_refused(redis_client):
    """The drain order is a runtime setting: audited, live at the next claim, validated."""
    from alerts.dynamic_config import runtime_forget
    from alerts.models import ConfigAuditLog
    from alerts.runtime_catalog import RuntimeSettingError
    from alerts.services.config import ConfigChange
    from alerts.services.runtime import runtime_setting_set

    page = outbox_rows(1, handling="Page_only")[0]
    ticket = outbox_rows(1, handling="Ticket_only")[0]
    change = ConfigChange(user="oncall", reason="tickets first during the migration")

    runtime_setting_set("forward_priority_classes", "Ticket_only;Page_only,Page_and_ticket", change)
    runtime_forget()

    assert [r.id for r in outbox_claim(1)] == [ticket.id]
    assert [r.id for r in outbox_claim(1)] == [page.id]
    audit = ConfigAuditLog.objects.filter(changed_by="oncall").get()
    assert audit.reason == "tickets first during the migration"

    with pytest.raises(RuntimeSettingError, match="unknown handling"):
        runtime_setting_set("forward_priority_classes", "Pager;Ticket_only", change)
    with pytest.raises(RuntimeSettingError, match="named twice"):
        runtime_setting_set("forward_priority_classes", "Page_only;Page_only", change)
    runtime_forget()
    assert priority_classes()[0] == ("Ticket_only",)  # unchanged by the refused values
