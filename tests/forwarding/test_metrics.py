"""The forwarding and remediation metrics are exported on /metrics."""

import pytest

from forwarding.circuit_breaker import breaker_status

NAMES = [
    "mutt_moog_requests_total",
    "mutt_moog_forward_latency_seconds",
    "mutt_moog_rate_limit_hits_total",
    "mutt_moog_circuit_state",
    "mutt_forward_outbox_depth",
    "mutt_dlq_depth",
    "mutt_remediation_replayed_total",
]


@pytest.mark.django_db
def test_metrics_page_lists_forwarding_and_remediation_metrics(client, redis_client):
    breaker_status()  # sets the circuit gauge, as the dashboard does
    page = client.get("/metrics").content.decode()
    for name in NAMES:
        assert f"# TYPE {name.removesuffix('_total')}" in page, name
    assert "mutt_moog_circuit_state 0.0" in page
