"""Each Celery worker's metrics and probe endpoint (``MUTT_WORKER_METRICS_PORT``).

On Kubernetes, compose and worker-only hosts a worker shares its
PROMETHEUS_MULTIPROC_DIR with nobody who serves ``/metrics``, so it serves its
own: ``/metrics`` (every process of the worker, prometheus_client multiprocess
mode, plus ``mutt_worker_heartbeat_age_seconds``), ``/livez`` and ``/readyz``
(mutt_project.worker_probe). The server runs in the worker's main process;
the heartbeat is stamped by a timer on the worker's event loop, so a hung or
stopped worker stops both answering and stamping. Unset or 0: no server
(``make run``, where ingest and web already export every local process).
"""

from __future__ import annotations

import logging
import os
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from celery import bootsteps
from django.conf import settings
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector

from mutt_project.metrics_auth import metrics_token_valid
from mutt_project.worker_probe import HEARTBEAT_INTERVAL_SECONDS, WorkerHeartbeat, probe_answer

log = logging.getLogger(__name__)

PORT_SETTING = "MUTT_WORKER_METRICS_PORT"
MAX_AGE_SETTING = "MUTT_WORKER_HEARTBEAT_MAX_AGE"


class _HeartbeatCollector:
    def __init__(self, heartbeat: WorkerHeartbeat, worker: str, queues: str) -> None:
        self.heartbeat, self.worker, self.queues = heartbeat, worker, queues

    def collect(self):
        family = GaugeMetricFamily(
            "mutt_worker_heartbeat_age_seconds",
            "Seconds since this worker's event loop last stamped its heartbeat",
            labels=["worker", "queue"],
        )
        family.add_metric([self.worker, self.queues], self.heartbeat.age())
        yield family


def _registry(heartbeat: WorkerHeartbeat, worker: str, queues: str) -> CollectorRegistry:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        MultiProcessCollector(registry)
    else:
        registry = REGISTRY
    registry.register(_HeartbeatCollector(heartbeat, worker, queues))  # type: ignore[arg-type]
    return registry


def serve(
    port: int,
    heartbeat: WorkerHeartbeat,
    registry: CollectorRegistry,
    host: str = "0.0.0.0",  # nosec B104  # a worker pod is probed and scraped on its pod address
) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            path = self.path.split("?", 1)[0]
            if path == "/metrics" and not metrics_token_valid(
                self.headers.get("Authorization", ""), settings.METRICS_TOKEN
            ):
                # The same bearer token as ingest's and web's /metrics; the probes stay open.
                status, body, ctype = 401, b"metrics need Authorization: Bearer <METRICS_TOKEN>\n", "text/plain"
            elif path == "/metrics":
                status, body, ctype = 200, generate_latest(registry), CONTENT_TYPE_LATEST
            else:
                status, text = probe_answer(path, heartbeat)
                body, ctype = text.encode(), "text/plain; charset=utf-8"
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_args) -> None:  # probes every few seconds: not worth a log line
            pass

    server = ThreadingHTTPServer((host, port), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, name="mutt-worker-metrics", daemon=True).start()
    return server


class WorkerMetricsStep(bootsteps.StartStopStep):
    """Worker bootstep: the heartbeat timer and the metrics/probe server."""

    requires = {"celery.worker.components:Timer"}

    def __init__(self, worker, **kwargs) -> None:
        super().__init__(worker, **kwargs)
        self.port = int(os.environ.get(PORT_SETTING, "0") or 0)
        self.server: ThreadingHTTPServer | None = None
        self.tref = None

    def create(self, worker):
        return self

    def start(self, worker) -> None:
        if not self.port:
            return
        max_age = float(os.environ.get(MAX_AGE_SETTING, "60") or 60)
        heartbeat = WorkerHeartbeat(max_age=max_age)
        worker.mutt_heartbeat = heartbeat
        queues = ",".join(sorted(worker.app.amqp.queues.consume_from or {}))
        registry = _registry(heartbeat, worker.hostname, queues)
        try:
            self.server = serve(self.port, heartbeat, registry)
        except OSError as exc:
            log.error("worker metrics: cannot listen on %s=%s: %s", PORT_SETTING, self.port, exc)
            return
        self.tref = worker.timer.call_repeatedly(HEARTBEAT_INTERVAL_SECONDS, heartbeat.beat)
        log.info("worker metrics and probes on port %s (%s)", self.port, queues)

    def stop(self, worker) -> None:
        if self.tref is not None:
            self.tref.cancel()
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
