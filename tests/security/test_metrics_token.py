"""``/metrics`` on the web and the ingest port needs the bearer token once METRICS_TOKEN is set;
the Prometheus scrape configuration sends it."""

from __future__ import annotations

import pytest
import requests
import yaml

from mutt_project.metrics_auth import metrics_token_valid
from tests.conftest import ROOT

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

TOKEN = "scrape-token-for-tests-0123456789"


@pytest.mark.parametrize("kind", ["web", "ingest"])
def test_metrics_answer_401_without_the_token(mutt_server, kind):
    url = mutt_server(kind, env={"METRICS_TOKEN": TOKEN}) + "/metrics"
    anonymous = requests.get(url, timeout=10)
    assert anonymous.status_code == 401 and anonymous.headers["WWW-Authenticate"].startswith("Bearer")
    assert "python_info" not in anonymous.text
    assert requests.get(url, headers={"Authorization": "Bearer wrong"}, timeout=10).status_code == 401
    scraped = requests.get(url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10)
    assert scraped.status_code == 200 and "python_info" in scraped.text


def test_token_check():
    assert metrics_token_valid("", "")  # no token configured: open (development)
    assert metrics_token_valid("Bearer abc", "abc") and metrics_token_valid("bearer abc", "abc")
    assert not metrics_token_valid("Bearer abcd", "abc") and not metrics_token_valid("Basic abc", "abc")


def test_prometheus_scrapes_with_the_token_file():
    """Every scrape job (ingest, web, the workers) sends the token from one file (promtool checks the
    whole file: tests/console)."""
    config = yaml.safe_load((ROOT / "deploy" / "prometheus" / "prometheus.yml").read_text())
    jobs = {job["job_name"]: job["authorization"] for job in config["scrape_configs"]}
    assert set(jobs) == {"mutt-ingest", "mutt-web", "mutt-workers"}
    assert {auth["type"] for auth in jobs.values()} == {"Bearer"}
    assert len({auth["credentials_file"] for auth in jobs.values()}) == 1


def test_kubernetes_scrapes_with_the_token_from_the_pods_secret():
    base = ROOT / "deploy" / "k8s" / "base"
    secret = yaml.safe_load((base / "secret.example.yaml").read_text())
    assert "METRICS_TOKEN" in secret["stringData"]  # web and ingest read mutt-secrets through envFrom
    monitor = yaml.safe_load((base / "servicemonitor.example.yaml").read_text())
    for endpoint in monitor["spec"]["endpoints"]:
        assert endpoint["authorization"]["credentials"] == {"name": "mutt-secrets", "key": "METRICS_TOKEN"}
