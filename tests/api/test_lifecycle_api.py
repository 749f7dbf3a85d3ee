"""/api/v2/oid-mappings, /api/v2/maintenance-windows, /api/v2/team-contacts: audited like the other config."""

from __future__ import annotations

import pytest

from alerts.models import ConfigAuditLog, MaintenanceWindow, OidMapping

pytestmark = pytest.mark.django_db


def test_oid_mapping_create_update_delete_is_audited(writer):
    created = writer.post("/api/v2/oid-mappings", {"oid_pattern": "1.3.6.1.4.1.30065.*", "match_kind": "prefix", "trap_name": "aristaAny", "reason": "arista"}, format="json")  # fmt: skip
    assert created.status_code == 201, created.content
    pk = created.json()["id"]
    assert writer.patch(f"/api/v2/oid-mappings/{pk}", {"category": "vendor"}, format="json").status_code == 200
    bad = writer.post("/api/v2/oid-mappings", {"oid_pattern": "1.3.x", "trap_name": "bad"}, format="json")
    assert bad.status_code == 400
    assert writer.delete(f"/api/v2/oid-mappings/{pk}").status_code == 200
    assert not OidMapping.objects.filter(pk=pk).exists()
    ops = list(
        ConfigAuditLog.objects.filter(table_name="oid_mappings").order_by("id").values_list("operation", "reason")
    )
    assert ops == [("CREATE", "arista"), ("UPDATE", "api"), ("DELETE", "api")]


def test_maintenance_window_via_api_with_preview(writer, reader):
    body = {"name": "upgrade", "kind": "weekly", "weekdays": "5,6", "start_time": "22:00", "end_time": "04:00",
            "timezone": "Europe/Paris", "host_pattern": "10.1.0.0/16"}  # fmt: skip
    created = writer.post("/api/v2/maintenance-windows", body, format="json")
    assert created.status_code == 201, created.content
    window = created.json()["maintenance_window"]
    assert window["suppressed"] == 0 and MaintenanceWindow.objects.get().host_pattern == "10.1.0.0/16"
    preview = reader.get(f"/api/v2/maintenance-windows/{window['id']}/preview")
    assert preview.status_code == 200 and preview.json()["would_have_matched_7d"] == 0
    assert reader.post("/api/v2/maintenance-windows", body, format="json").status_code == 403
    no_match = writer.post("/api/v2/maintenance-windows", body | {"host_pattern": ""}, format="json")
    assert no_match.status_code == 400


def test_team_contact_via_api(writer):
    created = writer.post("/api/v2/team-contacts", {"team": "NETO", "emails": "neto@example.net"}, format="json")
    assert created.status_code == 201
    assert writer.post("/api/v2/team-contacts", {"team": "SEC", "emails": "not-an-address"}, format="json").status_code == 400  # fmt: skip
