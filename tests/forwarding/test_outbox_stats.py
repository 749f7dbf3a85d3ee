"""The outbox-stats job: per priority class depth, oldest age and drain time on /metrics."""

from __future__ import annotations

import time

import pytest

from forwarding.outbox_stats import delivered_count, outbox_stats_export
from mutt_project.celery import app
from mutt_project.queues import TaskName
from tests.forwarding.factories import outbox_rows, outbox_seed

pytestmark = pytest.mark.django_db(transaction=True)


def _gauge(page: str, name: str, label: str) -> float:
    prefix = f'{name}{{priority_class="{label}"}} '
    line = next(line for line in page.splitlines() if line.startswith(prefix))
    return float(line.removeprefix(prefix))


def test_gauges_show_depth_age_and_drain_time_per_class(client, redis_client, settings):
    settings.MOOG_RATE_LIMIT = 10
    outbox_seed(300, "Ticket_only", waited=120)
    outbox_rows(3, handling="Page_and_ticket")

    outbox_stats_export()  # first run: no rate measured yet, the configured 10/s
    page = client.get("/metrics").content.decode()

    assert _gauge(page, "mutt_forward_outbox_class_depth", "Page_and_ticket+Page_only") == 3
    assert _gauge(page, "mutt_forward_outbox_class_depth", "Ticket_only") == 300
    assert _gauge(page, "mutt_forward_outbox_class_depth", "other") == 0
    assert _gauge(page, "mutt_forward_outbox_class_oldest_age_seconds", "Ticket_only") >= 120
    assert _gauge(page, "mutt_forward_outbox_class_drain_seconds", "Ticket_only") == pytest.approx(30.3)


def test_drain_time_follows_the_measured_delivery_rate(client, redis_client):
    outbox_seed(100, "Ticket_only")
    outbox_stats_export()
    time.sleep(0.5)
    delivered_count(50)  # what the forwarders' flushes count

    outbox_stats_export()
    page = client.get("/metrics").content.decode()

    rate = float(next(x for x in page.splitlines() if x.startswith("mutt_forward_delivery_rate ")).split()[1])
    assert 0 < rate <= 100  # 50 alerts in a bit more than 0.5 s
    assert _gauge(page, "mutt_forward_outbox_class_drain_seconds", "Ticket_only") == pytest.approx(100 / rate, rel=0.01)


def test_the_job_is_a_registered_task():
    app.loader.import_default_modules()
    assert TaskName.EXPORT_OUTBOX_STATS in app.tasks


def test_outbox_admin_shows_drain_time_at_the_measured_rate(client, redis_client, settings):
    from django.contrib.auth import get_user_model

    settings.MOOG_RATE_LIMIT = 50
    outbox_seed(600, "Ticket_only")
    client.force_login(get_user_model().objects.create_superuser("oncall", "oncall@example.com", "pw"))
    outbox_stats_export()
    time.sleep(0.5)
    delivered_count(1)  # a trickle (~2/s): far below the configured 50/s
    outbox_stats_export()

    page = client.get("/admin/alerts/alertoutbox/").content.decode()

    assert "measured rate" in page
    assert " min</td>" in page  # 600 alerts at ~2/s: minutes, not the 12 s the configured rate would give


def test_the_dashboard_and_the_metrics_api_show_each_class(client, redis_client, settings):
    """An on-call engineer sees per class what waits, for how long, and when it will be through."""
    from django.contrib.auth import get_user_model

    settings.MOOG_RATE_LIMIT = 20
    outbox_seed(400, "Ticket_only", waited=90)
    outbox_rows(2, handling="Page_only")
    outbox_stats_export()
    client.force_login(get_user_model().objects.create_user("oncall", password="x", is_staff=True))

    classes = client.get("/api/v2/metrics").json()["outbox_classes"]
    by_class = {c["class"]: c for c in classes}
    assert by_class["Page_and_ticket+Page_only"]["depth"] == 2
    assert by_class["Ticket_only"]["depth"] == 400
    assert by_class["Ticket_only"]["oldest_age"] >= 90
    assert by_class["Ticket_only"]["drain_seconds"] == pytest.approx(20.1)  # 402 alerts at 20/s

    panels = client.get("/dashboard/panels").content.decode()
    assert 'id="outbox-classes"' in panels
    assert "Ticket_only" in panels and "400" in panels
