"""Fixtures of the security tests: the web and ingest processes as the Procfile runs them, with extra settings."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from tests.conftest import ROOT, _test_database_url, free_port, wait_for

BIN = Path(sys.executable).parent


def _command(kind: str, port: int, workers: int) -> list[str]:
    if kind == "web":
        return [str(BIN / "gunicorn"), "mutt_project.wsgi:application", "--bind", f"127.0.0.1:{port}",
                "--workers", str(workers), "--threads", "4"]  # fmt: skip
    return [str(BIN / "granian"), "--interface", "wsgi", "ingest.wsgi:application", "--host", "127.0.0.1",
            "--port", str(port), "--workers", str(workers), "--blocking-threads", "4", "--no-ws"]  # fmt: skip


@pytest.fixture
def mutt_server(redis_client, tmp_path):
    """``mutt_server(kind, env=None, workers=1)``: start the web ("web") or ingest ("ingest") process; its URL."""
    started: list[tuple[subprocess.Popen, object]] = []

    def start(kind: str, env: dict | None = None, workers: int = 1) -> str:
        port = free_port()
        full_env = (
            os.environ
            | {
                "DATABASE_URL": _test_database_url(),
                "MUTT_SERVICE_NAME": kind,
                "LOG_LEVEL": "WARNING",
            }
            | (env or {})
        )
        log = (tmp_path / f"{kind}-{port}.log").open("w")
        proc = subprocess.Popen(_command(kind, port, workers), cwd=ROOT, env=full_env, stdout=log,
                                stderr=subprocess.STDOUT, start_new_session=True)  # fmt: skip
        started.append((proc, log))
        url = f"http://127.0.0.1:{port}"

        def up():
            try:
                return requests.get(url + "/health", timeout=2).status_code == 200
            except requests.RequestException:
                return proc.poll() is not None

        wait_for(up, timeout=60, message=f"{kind} server")
        assert proc.poll() is None, (tmp_path / f"{kind}-{port}.log").read_text()
        return url

    yield start
    for proc, log in started:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
