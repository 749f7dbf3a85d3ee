"""Lookup-table enrichment: a rule on an enriched field, its fields on the audit row and in Moogsoft's custom_info."""

from __future__ import annotations

import io

import orjson
import pytest

from alerts.enrichment import LookupData, Lookups
from alerts.models import EventAuditLog, LookupTable
from alerts.rule_engine import RuleSet, RuleSpec
from alerts.services.config import ConfigChange
from alerts.services.config_apply import config_apply
from alerts.services.lookup_tables import LookupTableInvalid, lookup_table_load_csv
from tests.config.conftest import GOOD
from tests.conftest import wait_for

CHANGE = ConfigChange(user="alice", reason="enrichment")


def _alerts(sink) -> list[dict]:
    """Every alert the Moogsoft stand-in accepted (single or batched requests)."""
    out = []
    for record in sink.received(accepted_only=True):
        body = record["body"]
        out.extend(body.get("events", [body]) if isinstance(body, dict) else [])
    return out


def _ruleset() -> RuleSet:
    inventory = LookupData(
        "inventory", "hostname", ("site", "criticality"), {"core-1": ("par", "high"), "edge-1": ("lon", "low")}
    )
    rules = [
        RuleSpec(1, "lookup", 900, "Page_only", "Log_only", "NETO", match_string="criticality=high"),
        RuleSpec(2, "contains", 100, "Ticket_only", "Log_only", "NETO", match_string="down"),
    ]
    return RuleSet.compile(rules, lookups=Lookups([inventory]))


@pytest.mark.parametrize(
    ("hostname", "rule_id"), [("CORE-1", 1), ("edge-1", 2), ("unknown-host", 2)], ids=["high", "low", "not-in-table"]
)
def test_a_lookup_rule_matches_the_enriched_field_as_the_reference_loop_does(hostname, rule_id):
    ruleset = _ruleset()
    event = {"hostname": hostname, "message": "link down"}
    assert ruleset.decide(event).rule_id == rule_id
    assert ruleset.decide_reference(event) == ruleset.decide(event)


def test_a_csv_upload_loads_a_table_and_refuses_duplicate_keys(db):
    csv_text = "hostname,site,criticality\nCore-1,par,high\nedge-1,lon,low\n"
    result = lookup_table_load_csv(name="inventory", stream=io.StringIO(csv_text), change=CHANGE)
    assert result == {
        "name": "inventory",
        "key_column": "hostname",
        "value_columns": ["site", "criticality"],
        "rows": 2,
    }
    assert dict(LookupTable.objects.get(name="inventory").rows.values_list("key", "values")) == {
        "core-1": ["par", "high"],
        "edge-1": ["lon", "low"],
    }
    with pytest.raises(LookupTableInvalid, match="key 'edge-1' given twice"):
        lookup_table_load_csv(name="inventory", stream=io.StringIO(csv_text + "edge-1,x,y\n"), change=CHANGE)
    assert LookupTable.objects.get(name="inventory").rows.count() == 2  # the refused load changed nothing


def test_a_high_criticality_host_pages_with_site_and_criticality_in_custom_info(
    empty_config, workers, moog_sink, client, api_key
):
    rule = (
        "- key: critical-hosts\n  match_type: lookup\n  match_string: criticality=high\n  priority: 900\n"
        "  prod_handling: Page_only\n  dev_handling: Log_only\n  team: NETO\n"
    )
    config_apply(GOOD.replace("development_hosts:\n", rule + "development_hosts:\n", 1), change=CHANGE)
    workers.start(queues="classify,forward")
    body = orjson.dumps([
        {"hostname": "router-1", "message": "fan tray removed", "timestamp": "2026-12-04T10:00:00Z"},
        {"hostname": "router-2", "message": "fan tray removed", "timestamp": "2026-12-04T10:00:00Z"},
    ])  # fmt: skip
    response = client.post("/api/v2/ingest", data=body, content_type="application/json", headers={"X-API-Key": api_key})
    assert response.status_code in (200, 202), response.content
    wait_for(lambda: EventAuditLog.objects.count() == 2, timeout=60, message="both events classified")
    high, low = EventAuditLog.objects.order_by("hostname")
    assert (high.handling, high.enrichment) == ("Page_only", {"site": "par", "criticality": "high"})
    assert (low.handling, low.enrichment) == ("Log_only", {"site": "lon", "criticality": "low"})
    sent = wait_for(lambda: _alerts(moog_sink), timeout=60, message="alert at the Moogsoft stand-in")
    assert [a["source"] for a in sent] == ["router-1"]
    assert sent[0]["custom_info"] == {"site": "par", "criticality": "high"}
