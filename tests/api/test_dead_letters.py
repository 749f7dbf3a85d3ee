"""/api/v2/dead-letters: list and filter (read), replay and discard (write), audited like the admin's actions."""

from __future__ import annotations

import pytest

from alerts.models import ConfigAuditLog, DeadLetter, IngestBatch

pytestmark = pytest.mark.django_db


def _letter(**kw) -> DeadLetter:
    spec = {"stage": "classify", "payload": {"events": [{"hostname": "h1", "message": "m"}]}} | kw
    return DeadLetter.objects.create(**spec)


def test_list_filters_by_stage_and_status(reader):
    a = _letter()
    b = _letter(stage="forward", status="poisoned")

    assert [d["id"] for d in reader.get("/api/v2/dead-letters").json()["dead_letters"]] == [b.pk, a.pk]
    assert [d["id"] for d in reader.get("/api/v2/dead-letters?stage=forward").json()["dead_letters"]] == [b.pk]
    assert [d["id"] for d in reader.get("/api/v2/dead-letters?status=pending").json()["dead_letters"]] == [a.pk]
    assert reader.get("/api/v2/dead-letters?status=lost").status_code == 400
    assert reader.get(f"/api/v2/dead-letters/{a.pk}").json()["payload"] == a.payload


def test_replay_puts_a_classify_letter_back_in_the_inbox_and_is_audited(writer, redis_client):
    letter = _letter()

    response = writer.post(f"/api/v2/dead-letters/{letter.pk}/replay")

    assert response.status_code == 200, response.content
    assert response.json()["result"] == "replayed" and response.json()["dead_letter"]["status"] == "replayed"
    assert IngestBatch.objects.get().events == letter.payload["events"]
    audit = ConfigAuditLog.objects.get(table_name="dead_letters", record_id=letter.pk)
    assert audit.changed_by == "ci-pipeline" and audit.new_values["result"] == "replayed"
    again = writer.post(f"/api/v2/dead-letters/{letter.pk}/replay")
    assert again.status_code == 409 and again.json()["error"] == "Conflict"


def test_discard_retires_the_letter_once(writer):
    letter = _letter(stage="forward")

    response = writer.post(f"/api/v2/dead-letters/{letter.pk}/discard")

    assert response.status_code == 200 and response.json()["dead_letter"]["status"] == "discarded"
    assert ConfigAuditLog.objects.get(record_id=letter.pk, table_name="dead_letters").changed_by == "ci-pipeline"
    assert writer.post(f"/api/v2/dead-letters/{letter.pk}/discard").status_code == 409
    assert writer.post(f"/api/v2/dead-letters/{letter.pk}/replay").status_code == 409


def test_read_key_cannot_act_on_dead_letters(reader):
    letter = _letter()
    assert reader.post(f"/api/v2/dead-letters/{letter.pk}/discard").status_code == 403
    assert reader.post("/api/v2/dead-letters/999999/discard").status_code == 403
    assert DeadLetter.objects.get().status == "pending"


def test_unknown_dead_letter_is_404(writer):
    assert writer.post("/api/v2/dead-letters/999999/replay").status_code == 404
