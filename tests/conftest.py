"""Shared fixtures: the test PostgreSQL and Redis started by `make test`, real
Celery workers as subprocesses, and the Moogsoft stand-in.

Only Moogsoft is a stand-in (it sits outside the product). Redis, PostgreSQL
and Celery are the real ones.
"""

from __future__ import annotations

import itertools
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlparse, urlunparse

import pytest
import requests
from django.conf import settings
from django.db import connections

from mutt_project.redis_client import get_redis, reset_redis

ROOT = Path(__file__).resolve().parent.parent
SERVICES_ENV = os.environ.get("MUTT_TEST_SERVICES_ENV", str(ROOT / ".run" / "test" / "services.env"))


def wait_for(predicate, timeout: float = 60.0, interval: float = 0.05, message: str = "condition"):
    """Poll until ``predicate()`` is truthy; return its value or fail the test.

    ``timeout`` is a safety net, never a measurement: generous, because the suite runs several
    workers on two cores. A test that promises a bound measures it on the system's own clock.
    """
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout}s waiting for {message}")
        time.sleep(interval)


# Ports for the servers tests start come from below Linux's ephemeral range (32768-60999): an
# outgoing connection takes its local port from that range, and did take a port whose server an
# outage test had stopped for a moment, so the restart failed. Each xdist worker has a slice of
# its own (no two workers race for one port) and walks through it, so a port just given up is not
# handed out again at once. scripts/test.sh keeps the workers' PostgreSQL and Redis below 20000.
_FREE_PORTS = (20000, 32000)
_free_port_next = itertools.count()


def free_port() -> int:
    lo, hi = _FREE_PORTS
    workers = max(1, int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1")))
    worker = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw") or 0) % workers
    size = (hi - lo) // workers
    for _ in range(size):
        port = lo + worker * size + next(_free_port_next) % size
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port in {lo + worker * size}-{lo + (worker + 1) * size - 1}")


# ---------------------------------------------------------------------------
# Redis
# ---------------------------------------------------------------------------


def module_singletons_reset() -> None:
    """Forget every per-process cache: the Redis client, the compiled rule set, the staging-table marker,
    the ingest notifier's pending counts and remembered Redis failure."""
    from alerts.rule_cache import ruleset_forget  # needs the apps loaded
    from alerts.services.committing import stage_forget
    from ingest.auth import ingest_keys_forget
    from ingest.notifier import notifier_reset

    reset_redis()
    notifier_reset()
    ingest_keys_forget()
    ruleset_forget()
    stage_forget()


@pytest.fixture(autouse=True)
def fresh_singletons():
    """The one place module singletons are reset: before and after every test."""
    module_singletons_reset()
    yield
    module_singletons_reset()


@pytest.fixture(autouse=True)
def _audit_log_emptied_after_transactional_tests(request, django_db_blocker):
    """``event_audit_log`` is unmanaged (partitioned by raw SQL), so the flush after a transactional
    test leaves its rows; the next test on the same worker would see them. Emptied here instead."""
    yield
    marker = request.node.get_closest_marker("django_db")
    transactional = "transactional_db" in request.fixturenames or (
        marker is not None and bool(marker.kwargs.get("transaction") or (marker.args and marker.args[0]))
    )
    if not transactional:
        return
    from django.db import connection

    with django_db_blocker.unblock(), connection.cursor() as cursor:
        cursor.execute("SELECT EXISTS (SELECT 1 FROM event_audit_log)")
        if cursor.fetchone()[0]:
            cursor.execute("TRUNCATE event_audit_log")


@pytest.fixture
def redis_client():
    """The real test Redis, flushed before each test."""
    client = get_redis()
    client.flushdb()
    return client


def services_data_dir() -> str:
    return str(Path(SERVICES_ENV).parent)


def services_cmd(*args: str) -> None:
    subprocess.run(["bash", str(ROOT / "scripts" / "services.sh"), *args], check=True, capture_output=True)


@pytest.fixture
def stop_service():
    """``stop_service("redis"|"pg")`` stops the real server; it is started again after the test."""
    stopped = []

    def _stop(which: str):
        services_cmd(f"stop-{which}", services_data_dir())
        stopped.append(which)

    def _start():
        services_cmd("start", services_data_dir())
        if "pg" in stopped:
            # This process's connections died with the server; Django does not reconnect a closed
            # connection inside the next test's transaction, so every later test on this xdist
            # worker would fail with "connection already closed". Closed here, they reopen fresh.
            connections.close_all()
        stopped.clear()

    _stop.start = _start
    yield _stop
    if stopped:
        _start()


# ---------------------------------------------------------------------------
# Moogsoft stand-in
# ---------------------------------------------------------------------------


class Sink:
    def __init__(self, url: str):
        self.url = url

    def received(self, accepted_only: bool = False) -> list[dict]:
        return requests.get(
            self.url + "received", params={"accepted": "1"} if accepted_only else None, timeout=5
        ).json()

    def control(self, **mode) -> None:
        requests.post(self.url + "control", json=mode, timeout=30).raise_for_status()

    def clear(self) -> None:
        requests.delete(self.url + "received", timeout=30).raise_for_status()
        self.control()


@pytest.fixture(scope="session")
def moog_sink_server():
    # Its own process: the arrival times it records (rate-limit windows) must not
    # wait for this process's garbage collector or threads.
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "forwarding.moog_sink", "--port", str(port)], cwd=ROOT, start_new_session=True
    )
    sink = Sink(f"http://127.0.0.1:{port}/")

    def up() -> bool:
        try:
            return requests.get(sink.url + "health", timeout=30).ok
        except requests.RequestException:  # not listening yet, or slow to answer on a busy machine
            return proc.poll() is not None  # exited: stop waiting, fail below

    wait_for(up, timeout=60, message="moog stand-in up")
    if proc.poll() is not None:
        pytest.fail("the Moogsoft stand-in exited at start")
    yield sink
    proc.terminate()
    proc.wait(timeout=10)


@pytest.fixture
def moog_sink(moog_sink_server):
    moog_sink_server.clear()
    yield moog_sink_server
    moog_sink_server.control()


# ---------------------------------------------------------------------------
# Celery workers (real processes)
# ---------------------------------------------------------------------------


def _test_database_url() -> str:
    db = settings.DATABASES["default"]
    url = urlparse(settings.DATABASE_URL)
    return urlunparse(url._replace(path="/" + db["NAME"]))


class Workers:
    """Starts real ``celery worker`` processes against the test database."""

    def __init__(self, sink_url: str):
        self.sink_url = sink_url
        self.procs: list[subprocess.Popen] = []

    def start(
        self,
        queues: str = "classify,forward,maintenance",
        concurrency: int = 1,
        env: dict | None = None,
        name: str | None = None,
        wait: bool = True,
        crash_on_message: str | None = None,
        loglevel: str = "INFO",
    ) -> subprocess.Popen:
        """``crash_on_message``: the worker exits hard on an event with that message (tests/crash_hook.py)."""
        node = name or f"test{len(self.procs)}-{os.getpid()}"
        hook = {} if crash_on_message is None else {"MUTT_TEST_CRASH_ON_MESSAGE": crash_on_message}
        worker_env = (
            os.environ
            | {
                "DATABASE_URL": _test_database_url(),
                "MOOG_WEBHOOK_URL": self.sink_url,
                "DB_CONN_MAX_AGE": "0",
                "LOG_LEVEL": "WARNING",
            }
            | hook
            | (env or {})
        )
        log = open(ROOT / ".run" / f"worker-{node}.log", "w")  # noqa: SIM115 - closed with the process
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "mutt_project",
                "worker",
                "-Q",
                queues,
                "-n",
                f"{node}@%h",
                "--concurrency",
                str(concurrency),
                "--pool",
                "prefork",
                "--without-gossip",
                "--without-mingle",
                "--loglevel",
                loglevel,
                *(
                    ["--include", "tests.crash_hook"]
                    if hook or "MUTT_TEST_CRASH_ON_FORWARD_MESSAGE" in (env or {})
                    else []
                ),
            ],
            cwd=ROOT,
            env=worker_env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        proc.node = node
        proc.logfile = log
        self.procs.append(proc)
        if wait:
            self.wait_ready(proc)
        return proc

    def wait_ready(self, proc, timeout: float = 90.0) -> None:
        path = Path(proc.logfile.name)
        wait_for(lambda: "ready." in path.read_text() or proc.poll() is not None, timeout, message="worker ready")
        if proc.poll() is not None:
            pytest.fail(f"worker exited early:\n{path.read_text()[-3000:]}")

    def stop(self, proc, sig=signal.SIGTERM) -> None:
        if proc.poll() is None:
            os.killpg(proc.pid, sig)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        proc.logfile.close()

    def stop_all(self) -> None:
        """After the test: killed at once, all together. Nothing is asserted of this shutdown, and a warm
        one costs about 2 s a worker; a test that checks a shutdown calls ``stop`` itself."""
        for proc in self.procs:
            if proc.poll() is None:
                try:
                    os.killpg(proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        for proc in self.procs:
            proc.wait(timeout=60)
            proc.logfile.close()
        self.procs.clear()


@pytest.fixture
def workers(transactional_db, redis_client, moog_sink):
    """A factory for real Celery workers; all are stopped after the test."""
    (ROOT / ".run").mkdir(exist_ok=True)
    w = Workers(moog_sink.url)
    yield w
    w.stop_all()


@pytest.fixture
def api_key() -> str:
    return settings.INGEST_API_KEYS[0]


# ---- the Celery app the tests send with --------------------------------------
@pytest.fixture(autouse=True)
def _celery_app_stays_mutts():
    """A test that makes another Celery app current (``Celery(...)`` does by default) would send every
    later test's tasks to that app's broker and queues: put MUTT's back, and fail the test that did it."""
    from celery import current_app

    from mutt_project.celery import app

    yield
    if current_app._get_current_object() is not app:
        app.set_current()
        pytest.fail("this test left another Celery app current: create it with set_as_current=False")


# ---- issue 11: runtime settings -------------------------------------------
@pytest.fixture(autouse=True)
def _runtime_settings_fresh():
    """Each test starts with no cached operator values (a rolled-back test's values must not linger)."""
    from alerts.dynamic_config import runtime_reset

    runtime_reset()
    yield
    runtime_reset()


# ---------------------------------------------------------------------------
# Order: the long tests first
# ---------------------------------------------------------------------------

# Directories and files whose tests run whole stacks or real workers, longest first. pytest-xdist
# hands tests out in collection order, so starting these first lets the short ones fill the gaps
# instead of one worker finishing a long test alone at the end.
_LONG_FIRST = (
    "tests/chaos/test_chaos_ci.py",
    "tests/runtime/",
    "tests/integration/test_forward_storm.py",
    "tests/api/test_schemathesis.py",
    "tests/integration/",
    "tests/ha/",
    "tests/lifecycle/",
    "tests/console/",
    "tests/project/",
)


def _shared_fixture_group(item) -> str | None:
    """The test's file, when the test uses a fixture set up once per module (a stack, a staged install)."""
    info = getattr(item, "_fixtureinfo", None)
    if info is None:
        return None
    for defs in info.name2fixturedefs.values():
        if any(d.scope in ("module", "package", "class") and d.func.__module__.startswith("tests.") for d in defs):
            return item.nodeid.split("::")[0]
    return None


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist reads the xdist_group marks
def pytest_collection_modifyitems(items):
    def rank(item) -> int:
        return next((i for i, prefix in enumerate(_LONG_FIRST) if item.nodeid.startswith(prefix)), len(_LONG_FIRST))

    items.sort(key=rank)  # stable: within a rank, the usual order
    # A module-scoped fixture is set up once per xdist worker that runs one of the module's tests:
    # keep such a module on one worker (--dist loadgroup), so its 5-30 s set-up happens once.
    for item in items:
        group = _shared_fixture_group(item)
        if group and not item.get_closest_marker("xdist_group"):
            item.add_marker(pytest.mark.xdist_group(group))
