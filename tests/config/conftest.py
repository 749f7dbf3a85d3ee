"""Fixtures of the configuration-as-code tests."""

from __future__ import annotations

import textwrap

import pytest
from django.db import connection

from alerts.models import AlertRule, DevelopmentHost, DeviceTeam, LookupTable, TeamContact

GOOD = textwrap.dedent(
    """\
    format: 1
    teams: [NETO, DBA, WEB]
    rules:
    - key: core-down
      match_string: down
      priority: 500
      prod_handling: Page_and_ticket
      dev_handling: Email_only
      team: NETO
    - key: db-slow
      match_type: regex
      match_string: 'db-\\d+ slow'
      prod_handling: Ticket_only
      dev_handling: Log_only
      team: DBA
    - key: core-up
      match_string: changed state to up
      priority: 400
      prod_handling: Log_only
      dev_handling: Log_only
      team: NETO
      clears: core-down
    development_hosts:
    - hostname: lab-*
      description: the lab
    device_teams:
    - hostname: web-1
      team: WEB
    team_contacts:
    - team: DBA
      emails: dba@example.com
    runtime_settings:
      fold_window_seconds: 120
    lookup_tables:
    - name: inventory
      value_columns: [site, criticality]
      rows:
        router-1: {site: par, criticality: high}
        router-2: {site: lon, criticality: low}
    """
)


@pytest.fixture
def empty_config(transactional_db):
    """No rules, hosts, teams, contacts or tables (sample data and migrations' trap mappings removed)."""
    for model in (AlertRule, DevelopmentHost, DeviceTeam, TeamContact, LookupTable):
        model.objects.all().delete()
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE event_audit_log")
