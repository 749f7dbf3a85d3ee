"""Backtest a draft rule change over stored events (read-only; runs in a maintenance task).

The task reads the window's ``event_audit_log`` rows through a server-side
cursor on its own READ ONLY connection (big chunks, nothing held in memory),
decides each event twice (the current rules, the draft), and diffs; events that
no draft rule and no rule the draft edits or removes can match are skipped
without deciding (their decision cannot change). Progress
and the cancel flag go through Django's connection in autocommit, so they are
visible at once while the read transaction stays open.
"""

from __future__ import annotations

import logging
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

import psycopg2
from django.conf import settings
from django.db import IntegrityError, connections, transaction
from django.utils import timezone

from alerts.models.rule_lab import BACKTEST_UNFINISHED, BacktestStatus, RuleBacktest
from alerts.rule_engine import LOOKUP, RuleSet
from alerts.selectors import dev_hosts_list, device_teams_map, rules_active_specs
from alerts.services.rule_lab import rule_drafts_validate, ruleset_with_drafts
from mutt_project.queues import TaskName
from mutt_project.replica import read_alias

log = logging.getLogger(__name__)

DEFAULT_WINDOW_DAYS = 7
RESULT_TTL = timedelta(hours=24)
# A running backtest writes progress every chunk; one silent this long died with its worker.
STALE_AFTER = timedelta(minutes=5)
CHUNK_ROWS = 50_000
MAX_SAMPLES = 100
TOP_HOSTS = 100

_READ_SQL = """
SELECT received_at::text, hostname, message, trap_oid, syslog_severity
  FROM event_audit_log
 WHERE received_at >= %(start)s AND received_at < %(end)s
"""
_COUNT_SQL = "SELECT count(*) FROM event_audit_log WHERE received_at >= %(start)s AND received_at < %(end)s"


class BacktestConflict(Exception):
    """The user already has an unfinished backtest (its id in ``running_id``)."""

    def __init__(self, running_id):
        super().__init__(f"backtest {running_id} is still running")
        self.running_id = running_id


class BacktestWindowInvalid(ValueError):
    """A window the audit trail cannot answer (longer than retention, or empty)."""


class BacktestCancelled(Exception):
    """The operator cancelled the backtest while it ran."""


def backtests_expire(now: datetime | None = None) -> None:
    """Forget results older than 24 h and give up on backtests whose worker died."""
    now = now or timezone.now()
    RuleBacktest.objects.filter(created_at__lt=now - RESULT_TTL).delete()
    RuleBacktest.objects.filter(status__in=BACKTEST_UNFINISHED, updated_at__lt=now - STALE_AFTER).update(
        status=BacktestStatus.FAILED, error="no progress for 5 minutes (worker lost)", finished_at=now
    )


def backtest_start(*, user: str, rules, replace: bool = False, days: float | None = None) -> RuleBacktest:
    """Validate the draft and the window, record the backtest and queue its task (on commit)."""
    rule_drafts_validate(rules)  # raises DraftInvalid with the model's messages
    days = DEFAULT_WINDOW_DAYS if days is None else days
    if not isinstance(days, int | float) or isinstance(days, bool) or days <= 0:
        raise BacktestWindowInvalid("days must be a positive number")
    if days > settings.EVENT_RETENTION_DAYS:
        raise BacktestWindowInvalid(
            f"window of {days} days is longer than the retention ({settings.EVENT_RETENTION_DAYS} days)"
        )
    now = timezone.now()
    backtests_expire(now)
    try:
        with transaction.atomic():
            backtest = RuleBacktest.objects.create(
                user=user,
                draft={"rules": rules, "replace": bool(replace)},
                window_start=now - timedelta(days=days),
                window_end=now,
            )
            transaction.on_commit(lambda: _enqueue(backtest.pk))
    except IntegrityError:
        running = RuleBacktest.objects.filter(user=user, status__in=BACKTEST_UNFINISHED).first()
        if running is None:  # it finished between the insert and this read: try once more
            return backtest_start(user=user, rules=rules, replace=replace, days=days)
        raise BacktestConflict(running.pk) from None
    return backtest


def _enqueue(backtest_id) -> None:
    from mutt_project.celery import app

    app.send_task(TaskName.RULE_BACKTEST.value, args=[str(backtest_id)])


def backtest_cancel(backtest: RuleBacktest) -> RuleBacktest:
    """Ask the running task to stop (it checks after every chunk); a queued one stops at once."""
    RuleBacktest.objects.filter(pk=backtest.pk, status=BacktestStatus.QUEUED).update(
        status=BacktestStatus.CANCELLED, cancel_requested=True, finished_at=timezone.now()
    )
    RuleBacktest.objects.filter(pk=backtest.pk, status=BacktestStatus.RUNNING).update(cancel_requested=True)
    backtest.refresh_from_db()
    return backtest


@dataclass
class _Tally:
    """What the scan accumulates (turned into the JSON report at the end)."""

    scanned: int = 0
    would_match: int = 0
    would_win: int = 0
    changed: int = 0


def _fresh_ruleset() -> RuleSet:
    from alerts.rule_cache import lookups_current

    return RuleSet.compile(
        rules_active_specs(),
        dev_hosts_list(),
        device_teams_map(),
        lookups=lookups_current(),
        default_handling=settings.DEFAULT_HANDLING,
        default_team=settings.DEFAULT_TEAM,
    )


def _reader():
    """Its own connection: the server-side cursor's transaction never holds progress writes back.

    On the read replica when one is set and fresh (mutt_project.replica): the scan is the heavy read.
    """
    raw = psycopg2.connect(**connections[read_alias()].get_connection_params())
    raw.set_session(readonly=True)
    return raw


def backtest_scan(
    current: RuleSet,
    draft,
    start: datetime,
    end: datetime,
    progress=None,
) -> dict:
    """Replay the window through ``current`` and ``draft`` (a ``DraftRuleSet``) and report the differences.

    ``progress(scanned, total)`` is called after every chunk; it may raise ``BacktestCancelled``.
    """
    forward = frozenset(settings.FORWARD_HANDLINGS)
    decide_now = current.decide
    decide_draft = draft.ruleset.decide
    draft_only = RuleSet.compile(draft.draft_specs).matches_any if draft.draft_specs else None
    # Exact pre-filter: when no draft rule and no rule the draft edits or removes matches an event,
    # the set of matching rules is the same before and after, so the decision is too (not decided).
    # The current rules are assumed to be the live rules the draft was built on (the task compiles both).
    touched = (
        RuleSet.compile(draft.touched_specs).matches_any
        if draft.touched_specs is not None and not any(s.match_type == LOOKUP for s in draft.touched_specs)
        else None  # a lookup rule matches by the event's host: compare every event
    )
    draft_ids = draft.draft_ids
    tally = _Tally()
    changes: Counter = Counter()
    samples: dict[tuple, list] = defaultdict(list)
    per_host: Counter = Counter()
    lost: Counter = Counter()
    gained: Counter = Counter()
    timings = {"count_s": 0.0, "read_s": 0.0, "decide_and_diff_s": 0.0}

    raw = _reader()
    try:
        t0 = time.perf_counter()
        with raw.cursor() as cursor:
            cursor.execute(_COUNT_SQL, {"start": start, "end": end})
            total = cursor.fetchone()[0]
        timings["count_s"] = time.perf_counter() - t0
        with raw.cursor(name="rule_backtest") as cursor:
            cursor.itersize = CHUNK_ROWS
            cursor.execute(_READ_SQL, {"start": start, "end": end})
            while True:
                t0 = time.perf_counter()
                rows = cursor.fetchmany(CHUNK_ROWS)
                t1 = time.perf_counter()
                timings["read_s"] += t1 - t0
                if not rows:
                    break
                for received_at, hostname, message, trap_oid, severity in rows:
                    if touched is not None and not touched(message, trap_oid, severity):
                        continue
                    if draft_only is not None and draft_only(message, trap_oid, severity):
                        tally.would_match += 1
                    event = {
                        "hostname": hostname,
                        "message": message,
                        "trap_oid": trap_oid,
                        "syslog_severity": severity,
                    }
                    before = decide_now(event)
                    after = decide_draft(event)
                    if after.rule_id in draft_ids:
                        tally.would_win += 1
                    if before != after:
                        tally.changed += 1
                        key = (
                            before.handling,
                            before.team,
                            before.handling in forward,
                            after.handling,
                            after.team,
                            after.handling in forward,
                        )
                        changes[key] += 1
                        per_host[hostname] += 1
                        lost[before.rule_id] += 1
                        gained[after.rule_id] += 1
                        kept = samples[key]
                        if len(kept) < MAX_SAMPLES:
                            kept.append(
                                {
                                    "received_at": received_at,
                                    "hostname": hostname,
                                    "message": message[:500],
                                    "trap_oid": trap_oid,
                                    "syslog_severity": severity,
                                    "from_rule": before.rule_id,
                                    "to_rule": after.rule_id,
                                }
                            )
                tally.scanned += len(rows)
                timings["decide_and_diff_s"] += time.perf_counter() - t1
                if progress is not None:
                    progress(tally.scanned, total)
    finally:
        raw.close()

    def side(handling, team, forwarded):
        return {"handling": handling, "team": team, "forwarded": forwarded}

    rules = sorted(set(lost) | set(gained), key=lambda r: (r is None, r or 0))
    return {
        "window": {"start": start.isoformat(), "end": end.isoformat()},
        "scanned": tally.scanned,
        "would_match": tally.would_match,
        "would_win": tally.would_win,
        "changed": tally.changed,
        "changes": [
            {"from": side(*key[:3]), "to": side(*key[3:]), "count": count, "samples": samples[key]}
            for key, count in changes.most_common()
        ],
        "per_host": [{"hostname": h, "changed": c} for h, c in per_host.most_common(TOP_HOSTS)],
        "per_rule": [{"rule_id": r, "lost": lost.get(r, 0), "gained": gained.get(r, 0)} for r in rules],
        "draft_rule_ids": sorted(draft_ids),
        "deactivated_rule_ids": sorted(draft.removed_ids),
        "timings": {k: round(v, 3) for k, v in timings.items()},
    }


def backtest_run(backtest_id: str) -> str:
    """Run a queued backtest to its end (the task's one service call). Returns the final status."""
    claimed = RuleBacktest.objects.filter(pk=backtest_id, status=BacktestStatus.QUEUED).update(
        status=BacktestStatus.RUNNING, updated_at=timezone.now()
    )
    if not claimed:
        return "skipped"  # a redelivered message: another run has it, or it was cancelled or expired
    backtest = RuleBacktest.objects.get(pk=backtest_id)

    def progress(scanned: int, total: int) -> None:
        percent = 100.0 if not total else min(100.0, 100.0 * scanned / total)
        RuleBacktest.objects.filter(pk=backtest_id).update(scanned=scanned, percent=percent, updated_at=timezone.now())
        if RuleBacktest.objects.filter(pk=backtest_id, cancel_requested=True).exists():
            raise BacktestCancelled

    try:
        draft = ruleset_with_drafts(backtest.draft["rules"], backtest.draft.get("replace", False), _fresh_ruleset())
        result = backtest_scan(draft.base, draft, backtest.window_start, backtest.window_end, progress)
    except BacktestCancelled:
        RuleBacktest.objects.filter(pk=backtest_id).update(status=BacktestStatus.CANCELLED, finished_at=timezone.now())
        return BacktestStatus.CANCELLED
    except Exception as exc:
        # Recorded for the operator (the API shows it), logged, and re-raised for the task's policy.
        log.exception("backtest %s failed", backtest_id)
        RuleBacktest.objects.filter(pk=backtest_id).update(
            status=BacktestStatus.FAILED, error=f"{type(exc).__name__}: {exc}"[:2000], finished_at=timezone.now()
        )
        raise
    RuleBacktest.objects.filter(pk=backtest_id).update(
        status=BacktestStatus.DONE, result=result, percent=100.0, scanned=result["scanned"], finished_at=timezone.now()
    )
    return BacktestStatus.DONE
