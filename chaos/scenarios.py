"""The faults, one per scenario (`make chaos SCENARIO=name`). Each injects while the load runs and
returns when the fault is over; ``Fault`` collects what the ledger needs to know about it."""

from __future__ import annotations

import errno
import os
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from chaos.load import POISON_CLASSIFY, POISON_FORWARD, Load, chaos_event
from chaos.stack import Proc, Stack

# Sends whose outcome a fault can lose (then sent again): a forward process
# writes outcomes every second or 50 rows, so at most 50 unflushed sends per
# process, 2 processes, per fault that hits forwarding.
UNFLUSHED_PER_FAULT = 2 * 50


@dataclass
class Fault:
    scale: float = 1.0  # < 1 shortens outages (the CI subset)
    extra_bound: int = UNFLUSHED_PER_FAULT
    poison: set[str] = field(default_factory=set)
    notes: list[str] = field(default_factory=list)
    wait_for_dead: Callable[[], bool] | None = None

    def seconds(self, full: float) -> float:
        return max(5.0, full * self.scale)


def classify_sigkill(stack: Stack, load: Load, fault: Fault) -> None:
    """SIGKILL the classify pool processes mid-batch (while batches are leased), twice, 5 s apart."""
    for round_ in range(2):
        time.sleep(5 if round_ else 0)
        leased = _wait_leased(
            stack, "SELECT count(*) FROM ingest_batches WHERE status = 'processing' AND lease_until > now()"
        )
        for pid in stack.pool_children("worker-classify"):
            os.kill(pid, signal.SIGKILL)
        fault.notes.append(f"kill {round_ + 1}: {leased} batches leased")


def forward_sigkill(stack: Stack, load: Load, fault: Fault) -> None:
    """SIGKILL the forward pool processes mid-send, twice, 5 s apart (Moogsoft answers in 0.3 s meanwhile,
    so sends are in flight and outcomes unwritten when the kill comes)."""
    with stack.sink_state.lock:
        stack.sink_state.mode = {"delay": 0.3}
    for round_ in range(2):
        time.sleep(5 if round_ else 2)
        leased = _wait_leased(
            stack, "SELECT count(*) FROM alert_outbox WHERE next_attempt_at > now() + interval '2 seconds'"
        )
        for pid in stack.pool_children("worker-forward"):
            os.kill(pid, signal.SIGKILL)
        fault.notes.append(f"kill {round_ + 1}: {leased} outbox rows leased")
    with stack.sink_state.lock:
        stack.sink_state.mode = {}
    fault.extra_bound = 2 * UNFLUSHED_PER_FAULT


def main_sigkill(stack: Stack, load: Load, fault: Fault) -> None:
    """SIGKILL each main process (workers, beat, ingest) in turn; the harness restarts it."""
    for n, name in enumerate(("worker-classify", "worker-forward", "worker-maintenance", "beat", "ingest")):
        time.sleep(5 if n else 0)
        stack.kill_main(name)
    fault.extra_bound = UNFLUSHED_PER_FAULT
    fault.notes.append("main processes restarted by the harness (no supervisor on main yet)")


def _wait_leased(stack: Stack, sql: str, timeout: float = 15.0) -> int:
    """Poll until work is leased (a worker is mid-batch or mid-send); returns how much."""
    deadline = time.monotonic() + timeout
    with stack.db() as conn:
        conn.autocommit = True
        with conn.cursor() as cur:
            while time.monotonic() < deadline:
                cur.execute(sql)
                n = cur.fetchone()[0]
                if n:
                    break
                time.sleep(0.01)
    conn.close()
    return n


def redis_kill(stack: Stack, load: Load, fault: Fault) -> None:
    """kill -9 Redis, start it again after 3 s."""
    os.kill(stack.redis_pid(), signal.SIGKILL)
    time.sleep(3)
    stack.services_start()


def redis_flushall(stack: Stack, load: Load, fault: Fault) -> None:
    """FLUSHALL: queued Celery messages, wake-up flags, rate limit and breaker state all gone."""
    stack.redis_cli("FLUSHALL")
    time.sleep(2)


def pg_stop(stack: Stack, load: Load, fault: Fault) -> None:
    """PostgreSQL stopped for 60 s, then started (ingest answers 503 meanwhile)."""
    stack.services("stop-pg")
    time.sleep(fault.seconds(60))
    stack.services_start()


def moog_outage(stack: Stack, load: Load, fault: Fault) -> None:
    """Moogsoft answers 503 for 60 s, then stalls beyond the client timeout (3 s) for 30 s, then is healthy."""
    state = stack.sink_state
    with state.lock:
        state.mode = {"status": 503}
    time.sleep(fault.seconds(60))
    stall_start = time.time()
    with state.lock:
        state.mode = {"delay": 5}
    time.sleep(fault.seconds(30))
    with state.lock:
        state.mode = {}
    time.sleep(6)  # stalled requests still being answered
    stalled = sum(1 for r in stack.sink_records() if r["at"] >= stall_start)
    fault.extra_bound = UNFLUSHED_PER_FAULT + stalled  # each stalled send timed out at MUTT's side: in flight


def two_beats(stack: Stack, load: Load, fault: Fault) -> None:
    """A second Beat process runs next to the first for 60 s (a standby: only the leader lock's holder schedules)."""
    first = stack.procs["beat"]
    argv = [a if a != str(stack.data / "beat.pid") else str(stack.data / "beat2.pid") for a in first.argv]
    second = Proc("beat-2", argv, first.env, supervised=False)
    stack.spawn(second)
    time.sleep(fault.seconds(60))
    alive = second.popen.poll() is None
    second.popen.send_signal(signal.SIGTERM)
    second.popen.wait(timeout=20)
    (stack.data / "beat2.pid").unlink(missing_ok=True)
    fault.notes.append("second beat ran" if alive else "second beat exited early")


def poison_classify(stack: Stack, load: Load, fault: Fault) -> None:
    """One event that kills its classify worker every time: a classify dead letter, nothing else lost."""
    event = chaos_event(False, POISON_CLASSIFY)
    fault.poison.add(event["correlation_id"])
    load.inject(event)
    _wait_dead(stack, event["correlation_id"], "classify", fault)


def poison_forward(stack: Stack, load: Load, fault: Fault) -> None:
    """One alert that kills its forward worker every time: a forward dead letter after FORWARD_MAX_DELIVERIES."""
    event = chaos_event(True, POISON_FORWARD)
    load.inject(event)
    _wait_dead(stack, event["correlation_id"], "forward", fault)
    fault.extra_bound = 4 * UNFLUSHED_PER_FAULT  # one crash per delivery


def _wait_dead(stack: Stack, cid: str, stage: str, fault: Fault, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        time.sleep(2)
        with stack.db() as conn, conn.cursor() as cur:
            cur.execute(
                "SELECT last_error FROM dead_letters WHERE stage = %s AND (correlation_id = %s OR payload::text LIKE %s)",
                [stage, cid, f"%{cid}%"],
            )
            row = cur.fetchone()
        conn.close()
        if row:
            fault.notes.append(f"{stage} dead letter: {row[0][:60]}")
            return
    fault.notes.append(f"no {stage} dead letter within {timeout:.0f} s")


SCENARIOS: dict[str, tuple[Callable[[Stack, Load, Fault], None], dict[str, str]]] = {
    "classify_sigkill": (classify_sigkill, {}),
    "forward_sigkill": (forward_sigkill, {}),
    "main_sigkill": (main_sigkill, {}),
    "redis_kill": (redis_kill, {}),
    "redis_flushall": (redis_flushall, {}),
    "pg_stop": (pg_stop, {}),
    "moog_outage": (moog_outage, {}),
    "two_beats": (two_beats, {}),
    "poison_classify": (poison_classify, {"MUTT_TEST_CRASH_ON_MESSAGE": POISON_CLASSIFY}),
    "poison_forward": (poison_forward, {"MUTT_TEST_CRASH_ON_FORWARD_MESSAGE": POISON_FORWARD}),
}
CI_SCENARIOS = ("classify_sigkill", "redis_kill", "moog_outage")


def pg_disk_full(stack: Stack, load: Load, fault: Fault) -> None:
    """The disk under PostgreSQL is full for 30 s (a filler file on its tmpfs): ingest must answer 503."""
    if not stack.pg_on_tmpfs:
        fault.notes.append("skipped: no tmpfs could be mounted for PostgreSQL here")
        return
    filler = stack.data / "postgres" / "filler"
    chunk = b"\0" * (1 << 20)
    with filler.open("wb", buffering=0) as fh:  # closed before the unlink, or the space stays taken
        for size in (1 << 20, 4096):
            try:
                while True:
                    fh.write(chunk[:size])
            except OSError as exc:
                if exc.errno != errno.ENOSPC:
                    raise
    fault.notes.append(f"disk full: {os.statvfs(filler.parent).f_bavail} blocks free")
    time.sleep(fault.seconds(30))
    filler.unlink()
    time.sleep(1)
    stack.services_start()  # PostgreSQL may have stopped on a failed WAL write: start it again


SCENARIOS["pg_disk_full"] = (pg_disk_full, {})
