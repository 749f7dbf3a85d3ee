"""Rule health from the audit trail (a background job; read-only towards rules and audit rows).

Per active rule: hits in the last 24 h / 7 d / 30 d and the last match (what
the audit trail recorded), and three flags computed by replaying the
window's stored events through the current rules:

- *never matched*: no event of the window satisfied its conditions and it won nothing;
- *shadowed*: events satisfied it, but a higher-ranked rule won every one of
  them (``shadowed_by`` is the rule that won most of them);
- *duplicate*: another active rule has exactly the same criteria.
"""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from datetime import datetime, timedelta

from django.db import connections, transaction
from django.utils import timezone

from alerts.models import AlertRule
from alerts.models.rule_lab import RuleHealth
from alerts.services.rule_backtest import CHUNK_ROWS, _fresh_ruleset, _reader
from mutt_project.replica import read_alias

WINDOW_DAYS = 7
# The replay reads at most this many of the window's most recent events (~30 s of work here), so
# the job's cost stays bounded on a busy estate; the rows say from when the replay started.
REPLAY_MAX_EVENTS = 5_000_000

_HITS_SQL = """
SELECT rule_id,
       count(*) FILTER (WHERE received_at >= %(day)s),
       count(*) FILTER (WHERE received_at >= %(week)s),
       count(*),
       max(received_at)
  FROM event_audit_log
 WHERE received_at >= %(month)s AND rule_id IS NOT NULL
 GROUP BY rule_id
"""
_READ_SQL = "SELECT message, trap_oid, syslog_severity FROM event_audit_log WHERE received_at {op} %(start)s"
# Where the replay must start to hold at most N events (an index-only walk of the received_at index).
_REPLAY_START_SQL = """
SELECT received_at FROM event_audit_log WHERE received_at >= %(start)s
 ORDER BY received_at DESC OFFSET %(n)s LIMIT 1
"""


def _replay(ruleset, start, capped: bool) -> tuple[Counter, Counter, dict[int, Counter], int]:
    """(candidates per rank, wins per rank, rank -> Counter of the ranks that beat it, events replayed)."""
    replayed = 0
    candidates: Counter = Counter()
    wins: Counter = Counter()
    beaten_by: dict[int, Counter] = defaultdict(Counter)
    matching = ruleset.matching_ranks
    raw = _reader()
    try:
        with raw.cursor(name="rule_health") as cursor:
            cursor.itersize = CHUNK_ROWS
            cursor.execute(_READ_SQL.format(op=">" if capped else ">="), {"start": start})
            while rows := cursor.fetchmany(CHUNK_ROWS):
                replayed += len(rows)
                for message, trap_oid, severity in rows:
                    ranks = matching({"message": message, "trap_oid": trap_oid, "syslog_severity": severity})
                    if not ranks:
                        continue
                    winner = ranks[0]
                    wins[winner] += 1
                    candidates.update(ranks)
                    for rank in ranks[1:]:
                        beaten_by[rank][winner] += 1
    finally:
        raw.close()
    return candidates, wins, beaten_by, replayed


def _duplicates() -> dict[int, list[int]]:
    groups: dict[tuple, list[int]] = defaultdict(list)
    for rule in AlertRule.objects.filter(is_active=True).order_by("id"):
        groups[(rule.match_type, rule.match_string, rule.trap_oid, rule.syslog_severity)].append(rule.pk)
    return {rid: [o for o in ids if o != rid] for ids in groups.values() if len(ids) > 1 for rid in ids}


def _replay_start(window_start, max_events: int) -> tuple[datetime, bool]:
    """(where the replay starts, whether the cap moved it): after the (N+1)th newest event, so at most N."""
    with connections[read_alias()].cursor() as cursor:
        cursor.execute(_REPLAY_START_SQL, {"start": window_start, "n": max_events})
        row = cursor.fetchone()
    return (row[0], True) if row else (window_start, False)


def rule_health_compute(window_days: int = WINDOW_DAYS, max_events: int = REPLAY_MAX_EVENTS) -> dict:
    """Recompute the rule health table (replaces every row in one transaction)."""
    started = time.perf_counter()
    now = timezone.now()
    with connections[read_alias()].cursor() as cursor:
        cursor.execute(
            _HITS_SQL,
            {"day": now - timedelta(days=1), "week": now - timedelta(days=7), "month": now - timedelta(days=30)},
        )
        hits = {row[0]: row[1:] for row in cursor.fetchall()}
    ruleset = _fresh_ruleset()
    replay_since, capped = _replay_start(now - timedelta(days=window_days), max_events)
    candidates, wins, beaten_by, replayed = _replay(ruleset, replay_since, capped)
    duplicates = _duplicates()
    rows = []
    window_hits = {1: 0, 7: 1, 30: 2}.get(window_days, 1)
    for rank, rule in enumerate(ruleset.rules):
        h24, h7, h30, last = hits.get(rule.id, (0, 0, 0, None))
        shadowed_by = None
        if candidates[rank] and not wins[rank]:
            shadowed_by = ruleset.rules[beaten_by[rank].most_common(1)[0][0]].id
        rows.append(
            RuleHealth(
                rule_id=rule.id,
                hits_24h=h24,
                hits_7d=h7,
                hits_30d=h30,
                last_matched=last,
                candidates=candidates[rank],
                never_matched=candidates[rank] == 0 and (h24, h7, h30)[window_hits] == 0,
                shadowed_by=shadowed_by,
                duplicate_of=duplicates.get(rule.id, []),
                window_days=window_days,
                replay_since=replay_since,
                replayed_events=replayed,
                computed_at=now,
            )
        )
    with transaction.atomic():
        RuleHealth.objects.all().delete()
        RuleHealth.objects.bulk_create(rows)
    return {"rules": len(rows), "replayed_events": replayed, "seconds": round(time.perf_counter() - started, 3)}
