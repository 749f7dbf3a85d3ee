"""load_sample_data writes its rows through the audited configuration services."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from alerts.models import AlertRule, ConfigAuditLog, DevelopmentHost, DeviceTeam
from alerts.sample_data import SAMPLE_DEV_HOSTS, SAMPLE_DEVICE_TEAMS, SAMPLE_RULES

pytestmark = pytest.mark.django_db


def test_every_sample_row_is_audited_once_and_a_second_load_adds_nothing(redis_client):
    call_command("load_sample_data")
    call_command("load_sample_data")

    rows = len(SAMPLE_RULES) + len(SAMPLE_DEV_HOSTS) + len(SAMPLE_DEVICE_TEAMS)
    assert AlertRule.objects.count() + DevelopmentHost.objects.count() + DeviceTeam.objects.count() == rows
    audit = ConfigAuditLog.objects.all()
    assert audit.count() == rows
    assert {(a.operation, a.changed_by, a.reason) for a in audit} == {("CREATE", "sample-data", "load_sample_data")}
    assert {a.table_name for a in audit} == {"alert_rules", "development_hosts", "device_teams"}
