"""docs/metrics.md lists exactly the MUTT metrics the live web process exports."""

from __future__ import annotations

import re

import pytest
import requests

from tests.conftest import ROOT

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

DOC = ROOT / "docs" / "metrics.md"


def documented() -> set[str]:
    return set(re.findall(r"^\| `(mutt_[a-z0-9_]+)` \|", DOC.read_text(), re.M))


def exported(page: str) -> set[str]:
    names = set(re.findall(r"^# TYPE (mutt_[a-z0-9_]+) ", page, re.M))
    return {n for n in names if not n.endswith("_created")}  # prometheus_client's per-series creation time


def test_every_exported_metric_is_documented_and_every_documented_one_exported(web_server):
    page = requests.get(web_server + "/metrics", timeout=10).text
    assert len(exported(page)) > 20
    assert exported(page) - documented() == set(), "exported but not in docs/metrics.md"
    assert documented() - exported(page) == set(), "in docs/metrics.md but not exported"


def test_circuit_state_uses_the_reference_encoding(web_server):
    page = requests.get(web_server + "/metrics", timeout=10).text
    assert "0 closed, 1 open, 2 half-open" in page
