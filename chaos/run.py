"""`make chaos [SCENARIO=name]`: every scenario (or one) against its own MUTT stack, then the ledger.

    .venv/bin/python -m chaos.run [--scenario NAME ...] [--data DIR] [--rate EPS] [--scale F] [--no-docs]

Prints one table and writes it to docs/reliability.md (date, machine); exits 1 on any loss,
duplicate, undelivered alert, extra deliveries beyond their bound, or a process not running.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import shutil
import signal
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mutt_project.settings")

from chaos.ledger import Ledger, dead_letter_cids, ledger_check, markdown_table  # noqa: E402
from chaos.load import Load  # noqa: E402
from chaos.scenarios import CI_SCENARIOS, SCENARIOS, Fault  # noqa: E402
from chaos.stack import ROOT, Stack  # noqa: E402

DOC = ROOT / "docs" / "reliability.md"
BEGIN, END = "<!-- chaos results: written by make chaos -->", "<!-- end chaos results -->"


def _audited(stack: Stack, cids: list[str]) -> int:
    try:
        with stack.db() as conn, conn.cursor() as cur:
            cur.execute(
                "SELECT count(DISTINCT correlation_id) FROM event_audit_log WHERE correlation_id = ANY(%s::uuid[])",
                [cids],
            )
            n = cur.fetchone()[0]
        conn.close()
        return n
    except Exception:  # the database may be down during the fault
        return -1


def _pipeline_idle(stack: Stack) -> bool:
    try:
        with stack.db() as conn, conn.cursor() as cur:
            cur.execute("SELECT (SELECT count(*) FROM ingest_batches WHERE status IN ('pending', 'processing')),"
                        " (SELECT count(*) FROM alert_outbox)")  # fmt: skip
            batches, outbox = cur.fetchone()
        conn.close()
        return batches == 0 and outbox == 0
    except Exception:
        return False


def _ledger_inputs(stack: Stack) -> tuple[dict[str, int], dict[str, str], dict[str, int]]:
    with stack.db() as conn, conn.cursor() as cur:
        cur.execute("SELECT correlation_id::text, count(*) FROM event_audit_log GROUP BY 1")
        audit = dict(cur.fetchall())
        cur.execute("SELECT correlation_id::text, payload, stage || ': ' || last_error FROM dead_letters")
        dead: dict[str, str] = {}
        for cid, payload, reason in cur.fetchall():
            for c in ([cid] if cid else []) + dead_letter_cids(payload):
                dead[c] = reason or "?"
    conn.close()
    deliveries: dict[str, int] = {}
    for r in stack.sink_records():
        body = r.get("body")
        if 200 <= r["status"] < 300 and isinstance(body, dict) and body.get("external_id"):
            deliveries[body["external_id"]] = deliveries.get(body["external_id"], 0) + 1
    return audit, dead, deliveries


def _redelivered(stack: Stack) -> str:
    """What the fault made MUTT do again: batches leased more than once, outbox rows retried."""
    with stack.db() as conn, conn.cursor() as cur:
        cur.execute("SELECT count(*) FILTER (WHERE attempts > 1) FROM ingest_batches")
        batches = cur.fetchone()[0]
    conn.close()
    return f"{batches} batches redelivered" if batches else ""


def scenario_run(stack: Stack, name: str, *, rate: float, scale: float, drain_timeout: float, log=print) -> Ledger:
    inject, env = SCENARIOS[name]
    stack.reset()
    stack.start(env)
    load = Load(f"http://127.0.0.1:{stack.ports.ingest}/api/v2/ingest", stack.api_key, rate=rate)
    fault = Fault(scale=scale)
    log(f"[{name}] load running")
    load.start()
    time.sleep(max(5.0, 10 * scale))
    started = time.monotonic()
    inject(stack, load, fault)
    fault_end = time.monotonic()
    log(f"[{name}] fault over after {fault_end - started:.0f} s")
    before = [c for c in load.stats.snapshot() if c not in fault.poison]
    recovery: list[float] = []

    def watch_recovery():
        deadline = fault_end + drain_timeout + 60
        while time.monotonic() < deadline:
            if _audited(stack, before) >= len(before):
                recovery.append(time.monotonic() - fault_end)
                return
            time.sleep(0.5)

    watcher = threading.Thread(target=watch_recovery, daemon=True)
    watcher.start()
    time.sleep(max(5.0, 10 * scale))
    load.stop()
    log(
        f"[{name}] load stopped: {len(load.stats.accepted)} accepted, answers {dict(sorted(load.stats.responses.items()))}"
    )
    accepted = dict(load.stats.accepted)
    wanted = [c for c in accepted if c not in fault.poison]
    deadline = time.monotonic() + drain_timeout
    while time.monotonic() < deadline:
        if _audited(stack, wanted) >= len(wanted) and _pipeline_idle(stack):
            audit, dead, deliveries = _ledger_inputs(stack)
            if all(deliveries.get(c) or dead.get(c) for c, fwd in accepted.items() if fwd and c not in fault.poison):
                break
        time.sleep(1)
    drained = time.monotonic() < deadline
    watcher.join(timeout=1)
    time.sleep(2)
    running = stack.all_running()
    try:
        audit, dead, deliveries = _ledger_inputs(stack)
        redelivered = _redelivered(stack)
    except Exception as exc:  # the database did not come back: every accepted event counts as lost
        audit, dead, deliveries, redelivered = {}, {}, {}, ""
        fault.notes.append(f"ledger unreadable: {type(exc).__name__}")
    restarts = {p.name: p.restarts for p in stack.procs.values() if p.restarts}
    notes = list(fault.notes)
    if restarts:
        notes.append("harness restarted " + ", ".join(f"{k} x{v}" for k, v in restarts.items()))
    if not drained:
        notes.append(f"not drained within {drain_timeout:.0f} s")
    if load.stats.errors:
        notes.append(f"{load.stats.errors} non-503 errors")
    if redelivered:
        notes.append(redelivered)
    stack.stop()
    led = ledger_check(
        scenario=name,
        accepted=accepted,
        refused=load.stats.refused,
        audit_counts=audit,
        deliveries=deliveries,
        dead_letters=dead,
        poison=fault.poison,
        extra_bound=fault.extra_bound,
        recovery_seconds=recovery[0] if recovery else None,
        processes_running=running,
        notes=notes,
    )
    log(f"[{name}] {'pass' if led.ok else 'FAIL'}: {led}")
    return led


def machine() -> str:
    return f"{platform.node()}, {os.cpu_count()} CPUs, {platform.system()} {platform.release()}, Python {platform.python_version()}"


def docs_write(table: str, command: str) -> None:
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    block = f"{BEGIN}\nLast run: {stamp} on {machine()}; `{command}`.\n\n{table}\n{END}"
    text = DOC.read_text() if DOC.exists() else f"# Reliability\n\n{BEGIN}\n{END}\n"
    text = re.sub(re.escape(BEGIN) + ".*?" + re.escape(END), lambda _m: block, text, flags=re.S)
    DOC.write_text(text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scenario", action="append", choices=[*SCENARIOS, "ci"], help="default: all")
    parser.add_argument("--data", default=os.environ.get("MUTT_CHAOS_DIR", "/tmp/mutt-chaos"))
    parser.add_argument("--rate", type=float, default=60.0, help="events per second offered")
    parser.add_argument("--scale", type=float, default=1.0, help="outage lengths x this")
    parser.add_argument("--drain-timeout", type=float, default=300.0)
    parser.add_argument("--no-docs", action="store_true", help="do not write docs/reliability.md")
    parser.add_argument("--keep-data", action="store_true", help="leave the data directory (default: removed)")
    args = parser.parse_args(argv)
    names = args.scenario or list(SCENARIOS)
    if names == ["ci"]:
        names = list(CI_SCENARIOS)
    stack = Stack(Path(args.data), want_tmpfs="pg_disk_full" in names)
    signal.signal(signal.SIGTERM, lambda *_a: sys.exit(143))  # stop the stack on the way out
    ledgers = []
    try:
        stack.prepare()
        for name in names:
            try:
                ledgers.append(
                    scenario_run(stack, name, rate=args.rate, scale=args.scale, drain_timeout=args.drain_timeout)
                )
            except Exception as exc:  # a broken stack fails this scenario; the next one starts clean
                print(f"[{name}] harness error: {exc!r}", file=sys.stderr)
                stack.stop()
                ledgers.append(ledger_check(scenario=name, accepted={}, refused=(), audit_counts={}, deliveries={},
                                            dead_letters={}, processes_running=False, notes=[f"harness error: {exc!r}"[:120]]))  # fmt: skip
    finally:
        stack.shutdown()
    table = markdown_table(ledgers)
    print(table)
    if not args.no_docs:
        docs_write(table, "make chaos" + (f" SCENARIO={','.join(names)}" if args.scenario else ""))
    ok = bool(ledgers) and all(led.ok for led in ledgers)
    if ok and not args.keep_data:
        shutil.rmtree(args.data, ignore_errors=True)
    elif not ok:
        print(f"logs kept in {args.data}/logs", file=sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
