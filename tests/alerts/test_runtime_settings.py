"""Runtime settings: validation, the audited service, the per-process accessor, the admin page."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from alerts import dynamic_config
from alerts.dynamic_config import runtime, runtime_forget
from alerts.models import ConfigAuditLog, RuntimeSetting
from alerts.runtime_catalog import CATALOG, RuntimeSettingError, setting_parse
from alerts.services.config import ConfigChange
from alerts.services.runtime import runtime_settings_set
from mutt_project import redis_keys

REQUIRED = {
    "moog_rate_limit",
    "moog_rate_period",
    "moog_circuit_breaker_threshold",
    "moog_circuit_breaker_timeout",
    "max_ingest_queue_size",
    "alerter_queue_warn_threshold",
    "alerter_queue_shed_threshold",
    "alerter_shed_mode",
    "unhandled_event_threshold",
    "unhandled_event_window",
    "rule_cache_ttl",
    "max_dlq_retries",
}


def test_catalog_has_every_required_setting_with_a_description():
    assert REQUIRED <= CATALOG.keys()
    assert all(spec.description for spec in CATALOG.values())


@pytest.mark.parametrize(
    ("name", "raw", "message"),
    [
        ("moog_rate_limit", -1, "at least 1"),
        ("moog_rate_limit", "5", "an integer"),
        ("moog_rate_limit", 5.0, "an integer"),
        ("moog_rate_limit", True, "an integer"),
        ("moog_rate_limit", 10**9, "at most"),
        ("alerter_shed_mode", "drop", "one of dlq, defer"),
        ("no_such", 1, "unknown setting"),
    ],
)
def test_bad_values_are_refused_with_the_reason(name, raw, message):
    with pytest.raises(RuntimeSettingError, match=message):
        setting_parse(name, raw)


def test_form_text_is_parsed_only_when_asked():
    assert setting_parse("moog_rate_limit", " 7 ", from_text=True) == 7
    with pytest.raises(RuntimeSettingError):
        setting_parse("moog_rate_limit", "7.5", from_text=True)


@pytest.mark.django_db
def test_a_change_is_stored_audited_and_visible(redis_client, settings, django_capture_on_commit_callbacks):
    settings.MOOG_RATE_LIMIT = 50
    change = ConfigChange(user="alice", reason="storm")
    with django_capture_on_commit_callbacks(execute=True):  # the version bump runs on commit
        assert runtime_settings_set(values={"moog_rate_limit": 5}, change=change) == {"moog_rate_limit": (50, 5)}
    assert runtime("moog_rate_limit") == 5
    audit = ConfigAuditLog.objects.get()
    assert (audit.changed_by, audit.reason, audit.table_name) == ("alice", "storm", "runtime_settings")
    assert audit.old_values == {"name": "moog_rate_limit", "value": None, "effective": 50}
    assert audit.new_values == {"name": "moog_rate_limit", "value": 5}
    # Same value again: nothing changes, nothing audited.
    assert runtime_settings_set(values={"moog_rate_limit": 5}, change=change) == {}
    assert ConfigAuditLog.objects.count() == 1
    # null returns it to the environment default.
    with django_capture_on_commit_callbacks(execute=True):
        runtime_settings_set(values={"moog_rate_limit": None}, change=change)
    assert runtime("moog_rate_limit") == 50


@pytest.mark.django_db
def test_one_bad_value_stores_none_of_the_batch(redis_client):
    with pytest.raises(RuntimeSettingError):
        runtime_settings_set(values={"rule_cache_ttl": 60, "moog_rate_limit": 0}, change=ConfigChange(user="bob"))
    assert not RuntimeSetting.objects.exists() and not ConfigAuditLog.objects.exists()


@pytest.mark.django_db
def test_another_process_sees_a_change_after_the_version_bump(redis_client, settings, monkeypatch):
    settings.RULE_CACHE_TTL = 300
    assert runtime("rule_cache_ttl") == 300
    # Another process writes the table and bumps the version; this one has just checked.
    RuntimeSetting.objects.create(name="rule_cache_ttl", value=30)
    assert runtime("rule_cache_ttl") == 300  # cached: no query per read
    redis_client.incr(redis_keys.RUNTIME_SETTINGS_VERSION)
    monkeypatch.setitem(dynamic_config._state, "checked", float("-inf"))  # a second has passed
    assert runtime("rule_cache_ttl") == 30


@pytest.mark.django_db
def test_a_lost_bump_costs_only_the_periodic_reread(redis_client, settings, monkeypatch):
    settings.UNHANDLED_EVENT_THRESHOLD = 100
    runtime_forget()
    assert runtime("unhandled_event_threshold") == 100
    RuntimeSetting.objects.create(name="unhandled_event_threshold", value=7)  # no bump
    monkeypatch.setitem(dynamic_config._state, "checked", float("-inf"))
    assert runtime("unhandled_event_threshold") == 100
    monkeypatch.setitem(dynamic_config._state, "checked", float("-inf"))
    monkeypatch.setitem(dynamic_config._state, "loaded", float("-inf"))  # the re-read is due
    assert runtime("unhandled_event_threshold") == 7


@pytest.mark.django_db
def test_admin_lists_every_setting_and_saves_an_audited_change(
    client, redis_client, django_capture_on_commit_callbacks
):
    admin = get_user_model().objects.create_superuser("root", "root@example.net", "pw-not-a-secret")
    client.force_login(admin)
    listing = client.get("/admin/alerts/runtimesetting/")
    assert listing.status_code == 200
    for name in REQUIRED:
        assert name in listing.content.decode()
    bad = client.post("/admin/alerts/runtimesetting/moog_rate_limit/change/", {"value": "-3", "reason": ""})
    assert bad.status_code == 200 and "at least 1" in bad.content.decode()
    assert not ConfigAuditLog.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        good = client.post("/admin/alerts/runtimesetting/moog_rate_limit/change/", {"value": "5", "reason": "incident"})
    assert good.status_code == 302
    assert runtime("moog_rate_limit") == 5
    audit = ConfigAuditLog.objects.get()
    assert (audit.changed_by, audit.reason, audit.new_values["value"]) == ("root", "incident", 5)
