"""Prometheus alert rules pass promtool and use only MUTT's metrics; the Grafana dashboard is well formed."""

from __future__ import annotations

import json
import re
import shutil
import subprocess

import yaml

from tests.conftest import ROOT
from tests.console.test_metrics_doc import documented

RULES = ROOT / "deploy" / "prometheus" / "mutt-alerts.yml"
DASHBOARD = ROOT / "deploy" / "grafana" / "dashboards" / "mutt-dashboard.json"


def _metric_names(expr: str) -> set[str]:
    names = set(re.findall(r"\b(mutt_[a-z0-9_]+)", expr))
    # Histogram series carry a suffix on the documented family name.
    return {re.sub(r"_(bucket|sum|count)$", "", n) for n in names}


def _worker_only() -> set[str]:
    """Metrics only a worker's own endpoint serves (docs/metrics.md, "Each Celery worker's own endpoint")."""
    section = (ROOT / "docs" / "metrics.md").read_text().split("## Each Celery worker's own endpoint")[1]
    return set(re.findall(r"^\s+- `(mutt_[a-z0-9_]+)` \(", section.split("\n## ")[0], re.M))


def _recorded(rules: dict) -> set[str]:
    return {r["record"] for g in rules["groups"] for r in g["rules"] if "record" in r}


def test_promtool_accepts_the_rules():
    promtool = shutil.which("promtool")
    assert promtool, "make test installs the Debian package prometheus (promtool)"
    result = subprocess.run([promtool, "check", "rules", str(RULES)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


def test_the_monitoring_profile_config_is_valid_and_loads_the_rules():
    """docker-compose's monitoring profile: Prometheus scrapes ingest and web and evaluates our rules."""
    promtool = shutil.which("promtool")
    assert promtool, "make test installs the Debian package prometheus (promtool)"
    config = ROOT / "deploy" / "prometheus" / "prometheus.yml"
    result = subprocess.run([promtool, "check", "config", str(config)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "mutt-alerts.yml" in result.stdout and "rules found" in result.stdout
    provisioning = ROOT / "deploy" / "grafana" / "provisioning"
    datasource = yaml.safe_load((provisioning / "datasources" / "prometheus.yml").read_text())
    assert datasource["datasources"][0]["url"] == "http://prometheus:9090"
    dashboards = yaml.safe_load((provisioning / "dashboards" / "mutt.yml").read_text())
    assert dashboards["providers"][0]["options"]["path"] == "/var/lib/grafana/dashboards"
    assert DASHBOARD.parent.name == "dashboards"  # what docker-compose mounts there


def test_every_rule_uses_only_metrics_mutt_exports():
    rules = yaml.safe_load(RULES.read_text())
    alerts = {r["alert"] for g in rules["groups"] for r in g["rules"] if "alert" in r}
    for wanted in (
        "MUTTBacklogGrowing",
        "MUTTOldestUnclassifiedEventTooOld",
        "MUTTMoogCircuitOpen",
        "MUTTDeadLettersGrowing",
        "MUTTNextMonthPartitionMissing",
        "MUTTNoEventsReceived",
        "MUTTIngest5xxRatio",
        "MUTTIngestSLOBurn",
    ):
        assert wanted in alerts
    recorded = _recorded(rules)
    for group in rules["groups"]:
        for rule in group["rules"]:
            used = _metric_names(rule["expr"])
            refs = set(re.findall(r"\b(mutt:[a-z0-9_:]+)", rule["expr"]))
            assert used or refs, rule
            assert refs <= recorded, rule
            known = documented() | _worker_only()
            assert used <= known, (rule.get("alert") or rule.get("record"), used - known)


def test_grafana_dashboard_is_well_formed_and_queries_mutt_metrics():
    dash = json.loads(DASHBOARD.read_text())
    assert dash["uid"] and dash["title"] and isinstance(dash["schemaVersion"], int)
    recorded = _recorded(yaml.safe_load(RULES.read_text()))
    ids = [p["id"] for p in dash["panels"]]
    assert len(ids) == len(set(ids)) >= 10
    for panel in dash["panels"]:
        assert panel["type"] in {"timeseries", "stat", "gauge", "table"} and panel["title"]
        pos = panel["gridPos"]
        assert {"x", "y", "w", "h"} <= pos.keys() and 0 <= pos["x"] and pos["x"] + pos["w"] <= 24
        assert panel["targets"]
        for target in panel["targets"]:
            expr = target["expr"]
            assert _metric_names(expr) <= documented(), (panel["title"], expr)
            for name in re.findall(r"\b(mutt:[a-z0-9_:]+)", expr):
                assert name in recorded, name


# ---- every alert rule unit-tested: a series that fires it and one that must not ----
RULE_TESTS = ROOT / "deploy" / "prometheus" / "mutt-alerts.test.yml"


def test_promtool_unit_tests_fire_and_spare_every_alert():
    rules = yaml.safe_load(RULES.read_text())
    alerts = {r["alert"] for g in rules["groups"] for r in g["rules"] if "alert" in r}
    cases = yaml.safe_load(RULE_TESTS.read_text())["tests"]
    fired, spared = set(), set()
    for case in cases:
        for check in case["alert_rule_test"]:
            (fired if check["exp_alerts"] else spared).add(check["alertname"])
    assert alerts == fired, f"alerts without a firing series: {alerts - fired}"
    assert alerts == spared, f"alerts without a non-firing series: {alerts - spared}"
    promtool = shutil.which("promtool")
    assert promtool, "make test installs the Debian package prometheus (promtool)"
    result = subprocess.run([promtool, "test", "rules", str(RULE_TESTS)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


def test_promtool_unit_tests_can_fail(tmp_path):
    """A non-firing series that does fire is reported: the unit tests above can fail."""
    text = RULE_TESTS.read_text().replace("values: '5x20'", "values: '600x20'")
    assert text != RULE_TESTS.read_text()
    (tmp_path / "mutt-alerts.yml").write_text(RULES.read_text())
    (tmp_path / "t.yml").write_text(text)
    result = subprocess.run(
        [shutil.which("promtool") or "promtool", "test", "rules", str(tmp_path / "t.yml")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0 and "MUTTOldestUnclassifiedEventTooOld" in result.stdout + result.stderr
