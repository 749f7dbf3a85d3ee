"""A Celery worker's heartbeat and what its probes answer (pure logic, no I/O).

The worker's event loop stamps ``WorkerHeartbeat.beat`` every few seconds
(mutt_project.worker_metrics). A loop that hangs (a stuck consumer, a process
stopped by a signal, a deadlock) stops stamping: the age grows, the liveness
probe answers 503 and Kubernetes restarts the container. The age is exported
as ``mutt_worker_heartbeat_age_seconds`` for the worker-down alert.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

HEARTBEAT_INTERVAL_SECONDS = 5.0


@dataclass
class WorkerHeartbeat:
    max_age: float
    clock: Callable[[], float] = time.monotonic
    ready: bool = False
    last: float = field(default=0.0)

    def __post_init__(self) -> None:
        self.last = self.clock()

    def beat(self) -> None:
        self.last = self.clock()

    def age(self) -> float:
        return max(0.0, self.clock() - self.last)


def probe_answer(path: str, heartbeat: WorkerHeartbeat) -> tuple[int, str]:
    """(HTTP status, text) for ``/livez`` and ``/readyz``; 404 for anything else."""
    age = heartbeat.age()
    fresh = age <= heartbeat.max_age
    if path == "/livez":
        return (200 if fresh else 503), f"heartbeat age {age:.1f}s (limit {heartbeat.max_age:.0f}s)\n"
    if path == "/readyz":
        if not heartbeat.ready:
            return 503, "worker not consuming yet\n"
        return (200 if fresh else 503), f"ready, heartbeat age {age:.1f}s\n"
    return 404, "not found: /metrics, /livez, /readyz\n"
