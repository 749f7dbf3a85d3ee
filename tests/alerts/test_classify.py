"""Classification in process against the real PostgreSQL and Redis (no worker)."""

from __future__ import annotations

import pytest
from django.db import connection
from prometheus_client import REGISTRY

from alerts import rule_cache
from alerts.flood import flood_correlation_id
from alerts.models import AlertOutbox, DeadLetter, EventAuditLog, IngestBatch
from alerts.rule_stats import rule_stats_all
from alerts.services import batches_classify
from tests.alerts.factories import make_batch, make_event, make_rule

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _clean(redis_client, empty_audit_log):
    """Every test starts with an empty audit log and Redis (the rule cache is reset by conftest)."""


def test_every_event_is_audited_and_alerts_go_to_the_outbox(redis_client):
    rule = make_rule(match_string="down", prod_handling="Page_only")
    batch = make_batch(
        [
            make_event(message="link down"),
            make_event(message="all good"),
            make_event(hostname="Lab-1", message="fan down", syslog_severity=2, facility="local3"),
        ]
    )
    result = batches_classify()
    assert (result.events, result.inserted, result.outboxed) == (3, 3, 2)
    rows = {r.message: r for r in EventAuditLog.objects.all()}
    assert (rows["link down"].rule_id, rows["link down"].handling, rows["link down"].forward_status) == (
        rule.id,
        "Page_only",
        "pending",
    )
    assert (rows["all good"].rule_id, rows["all good"].handling, rows["all good"].forward_status) == (
        None,
        "Log_only",
        "none",
    )
    assert (rows["fan down"].hostname, rows["fan down"].syslog_severity) == ("Lab-1", 2)
    # raw_payload keeps what has no column of its own, and only that.
    assert rows["fan down"].raw_payload == {"facility": "local3"}
    assert rows["link down"].raw_payload == {}
    assert AlertOutbox.objects.count() == 2
    assert IngestBatch.objects.get(pk=batch.pk).status == "done"


def test_a_batch_classified_twice_has_one_audit_row_and_one_outbox_row_per_event(redis_client):
    make_rule(match_string="down", prod_handling="Page_only")
    batch = make_batch([make_event(message=f"link {i} down") for i in range(20)] + [make_event(message="ok")])
    batches_classify()
    IngestBatch.objects.filter(pk=batch.pk).update(status="pending")  # as if redelivered by the sweeper
    again = batches_classify()
    assert again.events == 21 and again.inserted == 0 and again.outboxed == 0
    assert EventAuditLog.objects.count() == 21
    assert AlertOutbox.objects.count() == 20


def test_a_request_stored_twice_is_audited_and_outboxed_once(redis_client):
    # Ingest retries its INSERT on a fresh connection when the first one dropped, so the
    # same events can sit in two inbox rows with the same received_at, each on its first
    # delivery: the claim must fall back to the conflict-checking insert, losing nothing.
    make_rule(match_string="down", prod_handling="Page_only")
    events = [make_event(message=f"link {i} down") for i in range(5)] + [make_event(message="ok")]
    first = make_batch(events)
    IngestBatch.objects.create(events=events, event_count=len(events), received_at=first.received_at)
    fresh = make_batch([make_event(message="fan down")])  # claimed with them, a different request
    result = batches_classify()
    assert (result.events, result.inserted, result.outboxed) == (13, 7, 6)
    assert EventAuditLog.objects.count() == 7 and AlertOutbox.objects.count() == 6
    assert set(IngestBatch.objects.values_list("status", flat=True)) == {"done"}
    assert EventAuditLog.objects.filter(batch_id=fresh.pk).count() == 1


def test_a_redelivered_batch_does_not_requeue_alerts_already_delivered(redis_client):
    make_rule(match_string="down", prod_handling="Page_only")
    batch = make_batch([make_event()])
    batches_classify()
    AlertOutbox.objects.all().delete()  # delivered: the forwarder removed it
    IngestBatch.objects.filter(pk=batch.pk).update(status="pending")
    batches_classify()
    assert AlertOutbox.objects.count() == 0


def test_a_poison_event_is_dead_lettered_and_the_rest_of_its_batch_proceeds(redis_client):
    good = [make_event(message="fine 1"), make_event(message="fine 2")]
    poison = make_event(timestamp="yesterday-ish")
    loud = make_event(syslog_severity="very")
    make_batch([good[0], poison, loud, "not an event", good[1]])
    result = batches_classify()
    assert result.inserted == 2 and result.dead_events == 3
    assert sorted(EventAuditLog.objects.values_list("message", flat=True)) == ["fine 1", "fine 2"]
    letters = DeadLetter.objects.order_by("id")
    assert [str(d.correlation_id) for d in letters] == [poison["correlation_id"], loud["correlation_id"], "None"]
    assert all(d.stage == "classify" and d.status == "pending" for d in letters)
    assert "timestamp" in letters[0].last_error or "isoformat" in letters[0].last_error
    assert letters[0].payload["event"]["timestamp"] == "yesterday-ish"


def test_a_batch_delivered_too_often_is_dead_lettered_whole(redis_client, settings):
    settings.CLASSIFY_MAX_DELIVERIES = 2
    batch = make_batch([make_event(), make_event()])
    IngestBatch.objects.filter(pk=batch.pk).update(attempts=2)  # two deliveries that never finished
    result = batches_classify()
    assert result.dead_batches == 1 and result.inserted == 0
    assert IngestBatch.objects.get(pk=batch.pk).status == "dead"
    letter = DeadLetter.objects.get()
    assert (letter.stage, letter.batch_id, letter.attempts) == ("classify", batch.pk, 3)
    assert len(letter.payload["events"]) == 2


def test_a_flood_of_unmatched_events_raises_one_meta_alert_per_host_and_window(redis_client, settings):
    settings.UNHANDLED_EVENT_THRESHOLD = 10
    make_batch([make_event(hostname="noisy-1", message=f"odd {i}") for i in range(7)])
    make_batch(
        [make_event(hostname="noisy-1", message=f"odd {i}") for i in range(7, 30)]
        + [make_event(hostname="quiet-1", message="odd")]
    )
    batches_classify()
    make_batch([make_event(hostname="noisy-1", message="more")])
    batches_classify()
    meta = EventAuditLog.objects.filter(batch_id__isnull=True)
    assert [(m.hostname, m.handling, m.team_assignment) for m in meta] == [("noisy-1", "Ticket_only", "NETO")]
    assert "Unhandled event flood" in meta[0].message
    outbox = AlertOutbox.objects.get(correlation_id=meta[0].correlation_id)
    assert outbox.payload["hostname"] == "noisy-1"
    window_start = int(meta[0].received_at.timestamp())
    assert str(meta[0].correlation_id) == flood_correlation_id("noisy-1", window_start)


def test_rule_hits_and_last_match_are_counted_once_per_event(redis_client):
    down, fan = make_rule(match_string="down"), make_rule(match_string="fan")
    batch = make_batch([make_event(message="link down"), make_event(message="if down"), make_event(message="fan")])
    batches_classify()
    IngestBatch.objects.filter(pk=batch.pk).update(status="pending")
    batches_classify()  # redelivered: inserts nothing, so counts nothing
    stats = rule_stats_all()
    assert stats[down.id][0] == 2 and stats[fan.id][0] == 1
    assert stats[down.id][1] is not None


def test_a_rule_change_is_live_for_the_next_batch(redis_client):
    rule = make_rule(match_string="down", prod_handling="Log_only")
    make_batch([make_event(message="link down")])
    batches_classify()
    rule.prod_handling = "Page_only"
    rule.save()  # the signal bumps the version on commit
    make_batch([make_event(message="link down")])
    batches_classify()
    assert list(EventAuditLog.objects.order_by("id").values_list("handling", flat=True)) == ["Log_only", "Page_only"]


def test_a_change_whose_version_bump_was_lost_is_picked_up_after_the_cache_ttl(redis_client, settings, monkeypatch):
    settings.RULE_CACHE_TTL = 1
    now = [1000.0]
    monkeypatch.setattr(rule_cache, "clock", lambda: now[0])
    make_rule(match_string="down", prod_handling="Log_only")
    make_batch([make_event(message="link down")])
    batches_classify()
    with connection.cursor() as cursor:  # behind the ORM's back: no version bump
        cursor.execute("UPDATE alert_rules SET prod_handling = 'Page_only'")
    make_batch([make_event(message="link down")])
    batches_classify()  # within the TTL: the cached rules still apply
    now[0] += 1.5  # the cache ages past RULE_CACHE_TTL
    make_batch([make_event(message="link down")])
    batches_classify()
    assert list(EventAuditLog.objects.order_by("id").values_list("handling", flat=True)) == [
        "Log_only",
        "Log_only",
        "Page_only",
    ]


def test_classification_is_counted_in_the_prometheus_metrics(redis_client):
    def sample(name, **labels):
        return REGISTRY.get_sample_value(name, labels) or 0.0

    make_rule(match_string="down", prod_handling="Page_only")
    before = (
        sample("mutt_alerter_events_processed_total", handling="Page_only"),
        sample("mutt_alerter_unhandled_events_total"),
        sample("mutt_alerter_processing_latency_seconds_count"),
    )
    make_batch([make_event(message="link down"), make_event(message="odd"), make_event(message="odder")])
    batches_classify()
    after = (
        sample("mutt_alerter_events_processed_total", handling="Page_only"),
        sample("mutt_alerter_unhandled_events_total"),
        sample("mutt_alerter_processing_latency_seconds_count"),
    )
    assert [a - b for a, b in zip(after, before, strict=True)] == [1, 2, 1]
