"""Maintenance windows with real workers, PostgreSQL, Redis and the Moogsoft stand-in."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from alerts.maintenance import Window
from alerts.models import AlertOutbox, ConfigAuditLog, EventAuditLog, MaintenanceWindow
from alerts.selectors_lifecycle import window_preview_count, window_suppressed
from alerts.services.config import ConfigChange, config_save
from tests.alerts.factories import make_rule
from tests.conftest import wait_for
from tests.lifecycle.test_lifecycle_workers import LINK_DOWN, LINK_UP, _at_least, _bodies, _post, _trap

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]
PARIS = ZoneInfo("Europe/Paris")


def _recurring_window_now(**match) -> MaintenanceWindow:
    """A weekly window on today's (Paris) weekday, from an hour ago to an hour ahead (past midnight if need be)."""
    local = datetime.now(PARIS)
    window = MaintenanceWindow(
        name="core upgrade",
        kind="weekly",
        timezone="Europe/Paris",
        weekdays=",".join(str(d) for d in {local.weekday(), (local - timedelta(hours=1)).weekday()}),
        start_time=(local - timedelta(hours=1)).time().replace(microsecond=0),
        end_time=(local + timedelta(hours=1)).time().replace(microsecond=0),
        **match,
    )
    return config_save(instance=window, change=ConfigChange(user="ops", reason="planned work"))


def test_event_in_an_active_recurring_window_is_suppressed_and_a_clear_passes(client, workers, moog_sink, api_key):
    make_rule(match_type="trap_name", match_string="linkDown", prod_handling="Page_and_ticket")
    workers.start("classify,forward")
    down = _post(client, api_key, _trap(LINK_DOWN, 3, host="core-sw-01"))["correlation_id"]
    [alert] = _at_least(lambda: _bodies(moog_sink), 1, "alert before the window")

    window = _recurring_window_now(host_pattern="core-sw-*")
    assert ConfigAuditLog.objects.filter(table_name="maintenance_windows", record_id=window.pk).exists()
    assert window_preview_count(window) == 1  # the linkDown above, inside today's span
    muted = _post(client, api_key, _trap(LINK_DOWN, 5, host="core-sw-01"))["correlation_id"]
    other = _post(client, api_key, _trap(LINK_DOWN, 5, host="edge-01"))["correlation_id"]  # not in the window
    up = _post(client, api_key, _trap(LINK_UP, 3, host="core-sw-01"))["correlation_id"]

    bodies = _at_least(lambda: _bodies(moog_sink), 3, "clear and the other host's alert")
    assert {b["external_id"] for b in bodies} == {down, other, up}
    clear = next(b for b in bodies if b["external_id"] == up)
    assert clear["severity"] == 0 and clear["signature"] == alert["signature"]
    row = wait_for(lambda: EventAuditLog.objects.filter(correlation_id=muted).first(), message="muted audited")
    assert (row.suppressed_by, row.forward_status, row.handling) == (window.pk, "none", "Page_and_ticket")
    assert not AlertOutbox.objects.filter(correlation_id=muted).exists()
    assert [str(r.correlation_id) for r in window_suppressed(window.pk)] == [muted]
    wait_for(lambda: not AlertOutbox.objects.exists(), message="outbox drained")
    assert len(_bodies(moog_sink)) == 3


def test_window_activity_one_off_weekly_and_past_midnight():
    now = datetime(2026, 11, 26, 23, 30, tzinfo=UTC)  # a Thursday (3); 00:30 Friday in Paris
    one_off = Window(1, "one_off", starts_at=now - timedelta(minutes=5), ends_at=now + timedelta(minutes=5))
    assert one_off.active_at(now) and not one_off.active_at(now + timedelta(minutes=5))
    night = Window(2, "weekly", "Europe/Paris", weekdays=(3,), start_time=time(22), end_time=time(2))
    assert night.active_at(now)  # Thursday's span runs on into Friday
    assert not Window(3, "weekly", "Europe/Paris", weekdays=(4,), start_time=time(22), end_time=time(2)).active_at(now)
    day = Window(4, "weekly", "UTC", weekdays=(3,), start_time=time(9), end_time=time(17), team="NETO", rule_id=7)
    assert not day.active_at(now) and day.active_at(now.replace(hour=10))
    assert day.matches("any", "NETO", 7) and not day.matches("any", "NETO", 8) and not day.matches("any", "SEC", 7)
    cidr = Window(5, "one_off", host_pattern="10.0.0.0/8")
    assert cidr.matches("10.1.2.3", "X", None) and not cidr.matches("11.1.2.3", "X", None)


def test_a_window_needs_a_matcher_and_a_valid_schedule():
    with pytest.raises(Exception, match="at least one"):
        config_save(instance=MaintenanceWindow(name="w", kind="weekly", weekdays="1", start_time=time(1), end_time=time(2)), change=ConfigChange(user="ops"))  # fmt: skip
    with pytest.raises(Exception, match="time zone"):
        config_save(instance=MaintenanceWindow(name="w", kind="weekly", weekdays="1", start_time=time(1), end_time=time(2), team="NETO", timezone="Mars/Base"), change=ConfigChange(user="ops"))  # fmt: skip
