"""issue 13: a batch delivered before without finishing is leased alone (a poison batch takes no innocent one down)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from alerts.models import IngestBatch
from alerts.services.claiming import batches_claim
from tests.alerts.factories import make_batch, make_event

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_suspect_batch_is_claimed_alone_and_a_claim_stops_before_one():
    first, suspect, last = (make_batch([make_event(message=f"m{i}")]) for i in range(3))
    # The suspect's worker died: its lease expired with one delivery counted.
    IngestBatch.objects.filter(pk=suspect.pk).update(
        status="processing", attempts=1, lease_until=timezone.now() - timedelta(seconds=1)
    )

    claims = []
    for _ in range(3):
        batches, _more = batches_claim(max_events=5000)
        claims.append([(b.id, b.attempts) for b in batches])

    assert claims == [[(first.id, 1)], [(suspect.id, 2)], [(last.id, 1)]]


def test_clean_batches_are_still_claimed_together():
    batches = [make_batch([make_event(message=f"m{i}")]) for i in range(4)]
    claimed, _more = batches_claim(max_events=5000)
    assert [b.id for b in claimed] == [b.id for b in batches]
