"""Clears and repeat folding, decided once per claim from the signatures' state (docs/architecture.md, "Alert lifecycle").

Only the claim's forwarded events and clears take part. For their distinct
signatures the state rows of ``alert_signatures`` are read and locked in one
statement (sorted, so two classifiers never deadlock; new conditions get a
row in a second one), every event is decided
in memory in arrival order, and the changed rows are written back in one
statement: a few statements per claim, never a query per event. The rows stay
locked until the claim's transaction commits, so two classifiers working on
the same condition take turns and fold into the same first alert.

- a **clear** whose signature is open is forwarded (Moogsoft severity 0, same
  signature) and closes it; with nothing open it is audited, not forwarded;
- a **repeat** of an open signature whose first alert is still in the outbox
  or was opened less than ``fold_window_seconds`` ago is audited with
  ``folded_into`` and not sent; the first's ``repeat_count`` counts it (in the
  state row, and in the first's outbox payload while it waits there).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from alerts.rule_engine import Decision
from alerts.services.staging import Lifecycle


@dataclass(slots=True)
class _State:
    correlation_id: str | None
    is_open: bool
    opened_at: datetime | None
    repeat_count: int
    queued: bool  # the first alert still waits in the outbox
    last_seen_at: datetime | None = None
    cleared_by: str | None = None
    changed: bool = False
    first: Lifecycle | None = None  # the first's outcome when it is in this claim
    inserted_as: str | None = None  # inserted by this claim already opened by this first event


_LOCK_SQL = """
SELECT s.signature, s.correlation_id::text, s.is_open, s.opened_at, s.repeat_count,
       EXISTS (SELECT 1 FROM alert_outbox o WHERE o.correlation_id = s.correlation_id)
  FROM alert_signatures s
 WHERE s.signature = ANY(%(signatures)s::text[])
 ORDER BY s.signature
   FOR UPDATE OF s
"""
# Problem signatures not found get a closed placeholder, locked by this transaction as
# it inserts it; one another classifier inserted meanwhile is not returned, and is then
# read with the lock above (waiting for that transaction), so both see one state.
# Inserted as its first event will leave it (opened, count 1), which the write-back then
# skips unless more happened to it in this claim: one write per new condition, not two.
_PLACEHOLDER_SQL = """
INSERT INTO alert_signatures (signature, correlation_id, is_open, opened_at, last_seen_at, repeat_count)
SELECT v.sig, v.cid::uuid, true, %(now)s, %(now)s, 1
  FROM unnest(%(signatures)s::text[], %(cids)s::text[]) AS v(sig, cid) ORDER BY v.sig
ON CONFLICT (signature) DO NOTHING
RETURNING signature, correlation_id::text
"""
_WRITE_SQL = """
UPDATE alert_signatures s
   SET correlation_id = v.cid::uuid, is_open = v.is_open, opened_at = v.opened_at,
       repeat_count = v.repeat_count, last_seen_at = v.last_seen_at,
       cleared_by = COALESCE(v.cleared_by::uuid, s.cleared_by),
       cleared_at = CASE WHEN v.cleared_by IS NULL THEN s.cleared_at ELSE %(now)s END
  FROM unnest(%(signatures)s::text[], %(cids)s::text[], %(open)s::boolean[], %(opened)s::timestamptz[],
              %(counts)s::integer[], %(seen)s::timestamptz[], %(cleared)s::text[])
       AS v(signature, cid, is_open, opened_at, repeat_count, last_seen_at, cleared_by)
 WHERE s.signature = v.signature
"""
# Firsts of earlier claims still in the outbox carry their count to Moogsoft when they are sent.
_OUTBOX_COUNT_SQL = """
UPDATE alert_outbox o
   SET payload = o.payload || jsonb_build_object('repeat_count', v.n, 'last_seen', v.seen)
  FROM unnest(%(cids)s::text[], %(counts)s::integer[], %(seen)s::text[]) AS v(cid, n, seen)
 WHERE o.correlation_id = v.cid::uuid
"""


def outcomes_resolve(
    cursor, candidates: list[tuple[dict[str, Any], Decision, bool]], *, now: datetime, fold_window: int
) -> list[Lifecycle | None]:
    """One outcome per candidate ``(event, decision, forward wanted)``; None for an event it cannot judge."""
    signatures: list[str | None] = []
    for event, decision, _forward in candidates:
        hostname = event.get("hostname") if isinstance(event, dict) else None
        ok = isinstance(hostname, str) and isinstance(event.get("correlation_id"), str)
        signatures.append(decision.signature(hostname, event.get("trap_oid")) if ok else None)
    firsts: dict[str, str] = {}  # problem signature -> the claim's first event with it
    for sig, (event, decision, forward) in zip(signatures, candidates, strict=True):
        if sig and forward and not decision.is_clear and sig not in firsts:
            firsts[sig] = event["correlation_id"]
    problems = sorted(firsts)
    wanted = sorted({s for s in signatures if s})
    if not wanted:
        return [None] * len(candidates)
    cursor.execute(_LOCK_SQL, {"signatures": wanted})
    states = {row[0]: _State(row[1], row[2], row[3], row[4], row[5]) for row in cursor.fetchall()}
    missing = [s for s in problems if s not in states]
    if missing:  # usually none: a condition seen before keeps its row (pruned after SIGNATURE_RETENTION_DAYS)
        cursor.execute(_PLACEHOLDER_SQL, {"now": now, "signatures": missing, "cids": [firsts[s] for s in missing]})
        inserted = {row[0]: row[1] for row in cursor.fetchall()}
        # In memory they start closed: the loop opens them at that first event (a clear before it finds nothing).
        states.update((s, _State(None, False, None, 0, False, inserted_as=cid)) for s, cid in inserted.items())
        raced = [s for s in missing if s not in inserted]
        if raced:
            cursor.execute(_LOCK_SQL, {"signatures": raced})
            states.update((row[0], _State(row[1], row[2], row[3], row[4], row[5])) for row in cursor.fetchall())
    fold_after = now - timedelta(seconds=fold_window)
    outcomes: list[Lifecycle | None] = []
    for signature, (event, decision, forward) in zip(signatures, candidates, strict=True):
        if signature is None:
            outcomes.append(None)
            continue
        state = states.get(signature)
        cid = event["correlation_id"]
        if decision.is_clear:
            if state is not None and state.is_open:
                outcomes.append(Lifecycle(True, signature, clears=state.correlation_id))
                state.is_open, state.cleared_by, state.changed = False, cid, True
            else:
                outcomes.append(Lifecycle(False, signature))  # nothing open to clear: audited only
            continue
        if state is None:  # cannot happen after the placeholder insert; judged alone to be safe
            outcomes.append(Lifecycle(forward, signature))
            continue
        opened_recently = state.opened_at is not None and state.opened_at >= fold_after
        if state.is_open and fold_window > 0 and (state.queued or opened_recently):
            outcomes.append(Lifecycle(False, signature, folded_into=state.correlation_id))
            state.repeat_count += 1
            state.last_seen_at, state.changed = now, True
            if state.first is not None:
                state.first.repeat_count = state.repeat_count
            continue
        first = Lifecycle(True, signature)
        outcomes.append(first)
        state.correlation_id, state.is_open, state.opened_at, state.repeat_count = cid, True, now, 1
        state.queued, state.last_seen_at, state.first, state.changed = True, now, first, True
    _write_back(cursor, states, now)
    return outcomes


def _as_inserted(state: _State) -> bool:
    """The row already holds this state: inserted opened by its first event, and nothing since."""
    return (
        state.inserted_as is not None
        and state.correlation_id == state.inserted_as
        and state.is_open
        and state.repeat_count == 1
        and state.cleared_by is None
    )


def _write_back(cursor, states: dict[str, _State], now: datetime) -> None:
    changed = [(sig, st) for sig, st in sorted(states.items()) if st.changed and not _as_inserted(st)]
    if not changed:
        return
    cursor.execute(
        _WRITE_SQL,
        {
            "now": now,
            "signatures": [sig for sig, _ in changed],
            "cids": [st.correlation_id for _, st in changed],
            "open": [st.is_open for _, st in changed],
            "opened": [st.opened_at for _, st in changed],
            "counts": [st.repeat_count for _, st in changed],
            "seen": [st.last_seen_at for _, st in changed],
            "cleared": [st.cleared_by for _, st in changed],
        },
    )
    earlier = [(st.correlation_id, st.repeat_count) for _, st in changed if st.first is None and st.repeat_count > 1]
    if earlier:
        cursor.execute(
            _OUTBOX_COUNT_SQL,
            {
                "cids": [c for c, _ in earlier],
                "counts": [n for _, n in earlier],
                "seen": [now.isoformat()] * len(earlier),
            },
        )
