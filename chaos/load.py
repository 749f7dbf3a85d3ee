"""Steady mixed load through ingest: single events and NDJSON batches, about 10 % forwardable,
every event with its own correlation id. A 503 (or a refused connection) is retried with the
same body and the same correlation ids after Retry-After, as rsyslog's omhttp would."""

from __future__ import annotations

import random
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime

import orjson
import requests

FORWARDABLE = "CRITICAL chaos link failure"  # matches the sample rule "CRITICAL" (Page_and_ticket)
POISON_CLASSIFY = "CHAOS POISON EVENT"  # kills a classify worker (tests/crash_hook.py)
POISON_FORWARD = "CRITICAL chaos poison alert"  # forwardable; kills a forward worker


def chaos_event(forwardable: bool, message: str | None = None) -> dict:
    cid = str(uuid.uuid4())
    text = message or (f"{FORWARDABLE} {cid[:8]}" if forwardable else f"chaos heartbeat ok {cid[:8]}")
    return {
        "timestamp": datetime.now(UTC).isoformat(),
        "hostname": f"chaos-{random.randrange(200):03d}",
        "message": text,
        "syslog_severity": 2 if forwardable else 6,
        "correlation_id": cid,
    }


@dataclass
class LoadStats:
    lock: threading.Lock = field(default_factory=threading.Lock)
    accepted: dict[str, bool] = field(default_factory=dict)  # cid -> forwardable
    accepted_at: dict[str, float] = field(default_factory=dict)
    refused: set[str] = field(default_factory=set)  # answered 503 at least once
    responses: dict[int, int] = field(default_factory=dict)
    errors: int = 0

    def snapshot(self) -> list[str]:
        with self.lock:
            return list(self.accepted)


class Load:
    """``threads`` senders at about ``rate`` events/s in total."""

    def __init__(self, url: str, api_key: str, rate: float = 60.0, threads: int = 3, batch_share: float = 0.3):
        self.url, self.api_key, self.rate, self.batch_share = url, api_key, rate, batch_share
        self.stats = LoadStats()
        self._stop = threading.Event()
        self._giveup = threading.Event()
        self._threads = [threading.Thread(target=self._run, daemon=True) for _ in range(threads)]
        self._extra: list[dict] = []
        self._extra_lock = threading.Lock()

    def inject(self, event: dict) -> None:
        """Send this event (alone) with the next request."""
        with self._extra_lock:
            self._extra.append(event)

    def start(self) -> None:
        for t in self._threads:
            t.start()

    def stop(self, finish_within: float = 120.0) -> None:
        """Stop sending new requests; requests being retried get ``finish_within`` seconds."""
        self._stop.set()
        deadline = time.monotonic() + finish_within
        for t in self._threads:
            t.join(timeout=max(0.0, deadline - time.monotonic()))
        self._giveup.set()
        for t in self._threads:
            t.join(timeout=10)

    def _body(self) -> tuple[list[dict], bytes, str]:
        with self._extra_lock:
            if self._extra:
                event = self._extra.pop(0)
                return [event], orjson.dumps(event), "application/json"
        if random.random() < self.batch_share:
            events = [chaos_event(random.random() < 0.1) for _ in range(20)]
            return events, b"\n".join(orjson.dumps(e) for e in events), "application/x-ndjson"
        event = chaos_event(random.random() < 0.1)
        return [event], orjson.dumps(event), "application/json"

    def _run(self) -> None:
        session = requests.Session()
        per_thread = self.rate / len(self._threads)
        while not self._stop.is_set():
            started = time.monotonic()
            events, body, ctype = self._body()
            self._send(session, events, body, ctype)
            pause = len(events) / per_thread - (time.monotonic() - started)
            if pause > 0:
                self._stop.wait(pause)

    def _send(self, session: requests.Session, events: list[dict], body: bytes, ctype: str) -> None:
        cids = [e["correlation_id"] for e in events]
        while not self._giveup.is_set():
            try:
                answer = session.post(
                    self.url, data=body, headers={"X-API-Key": self.api_key, "Content-Type": ctype}, timeout=30
                )
                status = answer.status_code
            except requests.RequestException:
                status = 0
            with self.stats.lock:
                self.stats.responses[status] = self.stats.responses.get(status, 0) + 1
                if 200 <= status < 300:
                    now = time.monotonic()
                    for e in events:
                        self.stats.accepted[e["correlation_id"]] = e["message"].startswith("CRITICAL")
                        self.stats.accepted_at[e["correlation_id"]] = now
                    return
                if status == 503:
                    self.stats.refused.update(cids)
                elif status != 0:
                    self.stats.errors += 1
            retry_after = 1.0
            if status == 503:
                try:
                    retry_after = min(5.0, float(answer.headers.get("Retry-After", 1)))
                except ValueError:
                    pass
            self._giveup.wait(retry_after)
