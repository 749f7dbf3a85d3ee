"""/api/v2/dev-hosts and /api/v2/teams (and their /api/v1 aliases): same shape as rules, same audit."""

from __future__ import annotations

import pytest

from alerts.models import ConfigAuditLog, DevelopmentHost, DeviceTeam

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("version", ["v2", "v1"])
def test_dev_host_lifecycle_is_audited(writer, version):
    base = f"/api/{version}/dev-hosts"
    created = writer.post(base, {"hostname": "Lab-Router-1", "description": "lab", "reason": "new lab"}, format="json")
    assert created.status_code == 201 and created.json()["message"] == "Development host created"
    assert created.json()["dev_host"]["hostname"] == "lab-router-1"  # stored lower-cased

    listed = writer.get(base).json()
    assert [h["hostname"] for h in listed["dev_hosts"]] == ["lab-router-1"] and listed["total"] == 1

    updated = writer.patch(f"{base}/LAB-ROUTER-1", {"description": "bench"}, format="json")
    assert updated.status_code == 200 and updated.json()["dev_host"]["description"] == "bench"

    deleted = writer.delete(f"{base}/lab-router-1", {"reason": "returned"}, format="json")
    assert deleted.status_code == 200 and not DevelopmentHost.objects.exists()
    ops = list(
        ConfigAuditLog.objects.filter(table_name="development_hosts")
        .order_by("id")
        .values_list("operation", "changed_by", "reason")
    )
    assert ops == [
        ("CREATE", "ci-pipeline", "new lab"),
        ("UPDATE", "ci-pipeline", "api"),
        ("DELETE", "ci-pipeline", "returned"),
    ]


def test_duplicate_dev_host_is_400_per_field(writer):
    DevelopmentHost.objects.create(hostname="lab-1")
    response = writer.post("/api/v2/dev-hosts", {"hostname": "LAB-1"}, format="json")
    assert response.status_code == 400 and "hostname" in response.json()["detail"]


@pytest.mark.parametrize("version", ["v2", "v1"])
def test_team_override_lifecycle_is_audited(writer, version):
    base = f"/api/{version}/teams"
    created = writer.post(base, {"hostname": "core-sw-01", "team_assignment": "NETO"}, format="json")
    assert created.status_code == 201 and created.json()["team"]["team_assignment"] == "NETO"

    put = writer.put(f"{base}/core-sw-01", {"team_assignment": "DC-OPS", "reason": "reorg"}, format="json")
    assert put.status_code == 200 and DeviceTeam.objects.get().team_assignment == "DC-OPS"
    assert [t["hostname"] for t in writer.get(f"{base}?team_assignment=DC-OPS").json()["teams"]] == ["core-sw-01"]

    assert writer.delete(f"{base}/core-sw-01").status_code == 200
    assert writer.get(f"{base}/core-sw-01").status_code == 404
    assert list(
        ConfigAuditLog.objects.filter(table_name="device_teams").values_list("operation", flat=True).order_by("id")
    ) == ["CREATE", "UPDATE", "DELETE"]


def test_team_needs_a_team(writer):
    response = writer.post("/api/v2/teams", {"hostname": "x"}, format="json")
    assert response.status_code == 400 and "team_assignment" in response.json()["detail"]


def test_read_key_cannot_change_hosts_or_teams(reader):
    assert reader.post("/api/v2/dev-hosts", {"hostname": "h"}, format="json").status_code == 403
    assert reader.post("/api/v1/teams", {"hostname": "h", "team_assignment": "T"}, format="json").status_code == 403
