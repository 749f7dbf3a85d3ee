"""Export, validate and apply the configuration file: round trip, refused files, versions."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from alerts.config_file import ConfigFileInvalid
from alerts.models import AlertRule, ConfigAuditLog, ConfigVersion, DeviceTeam, LookupTable, RuntimeSetting
from alerts.services.config import ConfigChange
from alerts.services.config_apply import config_apply, config_validate
from alerts.services.config_export import config_export
from tests.config.conftest import GOOD

CHANGE = ConfigChange(user="alice", reason="from git")


def test_a_file_applies_and_exports_back_byte_identical(empty_config):
    result = config_apply(GOOD, change=CHANGE)
    first = config_export()
    assert AlertRule.objects.get(key="core-up").clears_rule == AlertRule.objects.get(key="core-down")
    assert DeviceTeam.objects.get(hostname="web-1").team_assignment == "WEB"
    assert RuntimeSetting.objects.get(name="fold_window_seconds").value == 120
    assert LookupTable.objects.get(name="inventory").rows.count() == 2
    assert result["version"] == ConfigVersion.objects.latest("number").number
    before = _decisions()
    # Wipe and apply the export to the empty database: the export is byte-identical, the decisions identical.
    AlertRule.objects.all().delete()
    DeviceTeam.objects.all().delete()
    LookupTable.objects.all().delete()
    config_apply(first, change=CHANGE)
    assert config_export() == first
    assert _decisions() == before
    assert len({d[0] for d in before}) == 4  # three rules and "no rule" were all exercised


def _decisions() -> list[tuple]:
    """Decisions (rule key, handling, team, dev) for a grid of events, by the rule cache's own compile."""
    from alerts.rule_cache import _load_ruleset

    ruleset = _load_ruleset()
    keys = dict(AlertRule.objects.values_list("id", "key"))
    out = []
    for host in ("router-1", "lab-3", "web-1", "db-1"):
        for message in ("link down", "db-12 slow", "changed state to up", "fan ok"):
            d = ruleset.decide({"hostname": host, "message": message, "syslog_severity": 3})
            out.append((keys.get(d.rule_id), d.handling, d.team, d.is_dev))
    return out


def test_every_object_is_audited_and_one_version_is_recorded(empty_config):
    before = ConfigVersion.objects.count()
    config_apply(GOOD, change=CHANGE)
    rows = ConfigAuditLog.objects.filter(correlation_id=CHANGE.correlation_id)
    tables = sorted(rows.values_list("table_name", flat=True))
    assert tables.count("alert_rules") == 3
    assert {"device_teams", "development_hosts", "team_contacts", "runtime_settings", "lookup_tables"} <= set(tables)
    assert ConfigVersion.objects.count() == before + 1
    version = ConfigVersion.objects.latest("number")
    assert (version.created_by, version.reason) == ("alice", "from git")
    config_apply(GOOD, change=CHANGE)  # nothing changes: no new version
    assert ConfigVersion.objects.count() == before + 1


@pytest.mark.parametrize(
    ("text", "line", "column", "words"),
    [
        (GOOD.replace("'db-\\d+ slow'", "'db-(\\d+ slow'"), 12, 17, "missing )"),
        (GOOD.replace("  priority: 400\n", "  priority: 400\n  colour: red\n"), 19, 3, "unknown field 'colour'"),
        (GOOD.replace("key: db-slow", "key: core-down"), 10, 8, "duplicate rules key 'core-down'"),
        (GOOD.replace("teams: [NETO, DBA, WEB]", "teams: [NETO, DBA, WEB"), 3, 6, "YAML syntax"),
        (GOOD.replace("team: WEB", "team: WEBB"), 28, 9, "team 'WEBB' is not in the file's teams list"),
    ],
    ids=["bad-regex", "unknown-field", "duplicate-key", "yaml-syntax", "missing-team"],
)
def test_a_bad_file_is_refused_whole_with_line_and_column(empty_config, text, line, column, words, capsys):
    with pytest.raises(ConfigFileInvalid) as refused:
        config_validate(text)
    where = [(e.line, e.column) for e in refused.value.errors if words in e.message]
    assert where == [(line, column)], [str(e) for e in refused.value.errors]
    with pytest.raises(ConfigFileInvalid):
        config_apply(text, change=CHANGE)
    assert not AlertRule.objects.exists()  # nothing of the file was stored


def test_validate_command_exits_non_zero_and_prints_positions(empty_config, tmp_path, capsys):
    bad = tmp_path / "mutt.yaml"
    bad.write_text(GOOD.replace("team: WEB", "team: WEBB"))
    with pytest.raises(CommandError) as failed:
        call_command("config", "validate", str(bad))
    assert failed.value.returncode == 1
    assert f"{bad}:28:9: device_teams/0/team: team 'WEBB'" in capsys.readouterr().err
    good = tmp_path / "good.yaml"
    good.write_text(GOOD)
    call_command("config", "validate", str(good))


def test_a_change_in_the_admin_or_api_makes_a_version_and_diffs_against_the_applied_one(empty_config):
    from alerts.services.config import rule_update
    from alerts.services.config_apply import config_versions_diff

    applied = config_apply(GOOD, change=CHANGE)["version"]
    rule = AlertRule.objects.get(key="db-slow")
    rule_update(rule=rule, data={"priority": 700}, change=ConfigChange(user="bob", reason="db first"))
    latest = ConfigVersion.objects.latest("number")
    assert (latest.number, latest.source, latest.created_by, latest.reason) == (applied + 1, "admin", "bob", "db first")
    changes = config_versions_diff(ConfigVersion.objects.get(number=applied), latest)
    assert changes["rules"]["changed"] == {"db-slow": {"priority": {"from": 100, "to": 700}}}


def test_export_only_writes_the_named_sections_and_applying_it_leaves_the_others(empty_config):
    config_apply(GOOD, change=CHANGE)
    text = config_export(["device_teams"])
    assert "rules:" not in text and "device_teams:" in text
    DeviceTeam.objects.all().delete()
    config_apply(text, change=CHANGE, prune=True)
    assert DeviceTeam.objects.count() == 1
    assert AlertRule.objects.count() == 3  # not in the file: untouched, even with prune
