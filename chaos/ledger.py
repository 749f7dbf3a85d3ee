"""The conservation ledger of a chaos run (pure: no I/O, unit-tested in tests/chaos/test_ledger.py).

What MUTT promises, checked per scenario (docs/reliability.md):

- every correlation id answered 2xx has exactly one audit row (``lost``: none,
  ``duplicated``: audit rows beyond the first), unless it is a poison event,
  which must instead be a classify dead letter with its reason;
- every accepted forwardable event reached Moogsoft at least once or is a
  dead letter with its reason (``undelivered`` otherwise); deliveries beyond
  the first are ``extra`` and must stay within ``extra_bound`` (the sends in
  flight when the fault hit);
- a correlation id that was only ever answered 503 (never 2xx) was not stored
  (``stored_refused``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Ledger:
    scenario: str
    accepted: int
    lost: int
    duplicated: int
    undelivered: int
    extra_deliveries: int
    extra_bound: int
    stored_refused: int
    dead_letters: int
    recovery_seconds: float | None
    processes_running: bool
    notes: tuple[str, ...] = field(default_factory=tuple)
    lost_ids: tuple[str, ...] = field(default_factory=tuple)

    @property
    def ok(self) -> bool:
        return (
            self.lost == 0
            and self.duplicated == 0
            and self.undelivered == 0
            and self.stored_refused == 0
            and self.extra_deliveries <= self.extra_bound
            and self.processes_running
        )


def ledger_check(
    *,
    scenario: str,
    accepted: Mapping[str, bool],
    refused: Iterable[str],
    audit_counts: Mapping[str, int],
    deliveries: Mapping[str, int],
    dead_letters: Mapping[str, str],
    poison: Iterable[str] = (),
    extra_bound: int = 0,
    recovery_seconds: float | None = None,
    processes_running: bool = True,
    notes: Iterable[str] = (),
) -> Ledger:
    """``accepted``: cid -> forwardable, for every cid answered 2xx; ``refused``: cids answered 503
    (possibly accepted later, when the retry got through); ``audit_counts``: cid -> audit rows;
    ``deliveries``: external_id -> 2xx deliveries seen by Moogsoft; ``dead_letters``: cid -> reason;
    ``poison``: cids that kill a worker every time (expected to be classify dead letters)."""
    poison = set(poison)
    lost_ids = []
    duplicated = 0
    undelivered = 0
    extra = 0
    for cid, forwardable in accepted.items():
        rows = audit_counts.get(cid, 0)
        if cid in poison:
            if rows == 0 and not dead_letters.get(cid):
                lost_ids.append(cid)
            duplicated += max(0, rows - 1)
            continue
        if rows == 0:
            lost_ids.append(cid)
        duplicated += max(0, rows - 1)
        sent = deliveries.get(cid, 0)
        extra += max(0, sent - 1)
        if forwardable and sent == 0 and not dead_letters.get(cid):
            undelivered += 1
    stored_refused = sum(1 for cid in set(refused) if cid not in accepted and audit_counts.get(cid, 0) > 0)
    return Ledger(
        scenario=scenario,
        accepted=len(accepted),
        lost=len(lost_ids),
        duplicated=duplicated,
        undelivered=undelivered,
        extra_deliveries=extra,
        extra_bound=extra_bound,
        stored_refused=stored_refused,
        dead_letters=sum(1 for cid in accepted if dead_letters.get(cid)),
        recovery_seconds=recovery_seconds,
        processes_running=processes_running,
        notes=tuple(notes),
        lost_ids=tuple(sorted(lost_ids)[:20]),
    )


def dead_letter_cids(payload: object) -> list[str]:
    """Correlation ids inside a dead letter's payload (a classify batch, a classify event, or an alert)."""
    if isinstance(payload, dict):
        found = []
        if isinstance(payload.get("correlation_id"), str):
            found.append(payload["correlation_id"])
        if isinstance(payload.get("event"), dict):
            found += dead_letter_cids(payload["event"])
        for event in payload.get("events") or []:
            found += dead_letter_cids(event)
        return found
    return []


HEADER = (
    "scenario",
    "accepted",
    "lost",
    "duplicated",
    "undelivered",
    "extra deliveries (bound)",
    "dead letters",
    "max recovery (s)",
    "result",
)


def table_rows(ledgers: Iterable[Ledger]) -> list[tuple[str, ...]]:
    rows = []
    for led in ledgers:
        recovery = "-" if led.recovery_seconds is None else f"{led.recovery_seconds:.1f}"
        verdict = "pass" if led.ok else "FAIL"
        if led.notes:
            verdict += " (" + "; ".join(led.notes) + ")"
        rows.append(
            (
                led.scenario,
                str(led.accepted),
                str(led.lost),
                str(led.duplicated),
                str(led.undelivered),
                f"{led.extra_deliveries} ({led.extra_bound})",
                str(led.dead_letters),
                recovery,
                verdict,
            )
        )
    return rows


def markdown_table(ledgers: Iterable[Ledger]) -> str:
    lines = ["| " + " | ".join(HEADER) + " |", "|" + " --- |" * len(HEADER)]
    lines += ["| " + " | ".join(row) + " |" for row in table_rows(ledgers)]
    return "\n".join(lines)
