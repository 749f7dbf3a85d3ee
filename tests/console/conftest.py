"""Fixtures of the operations console tests: the real web process and a headless Chromium."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import requests
from selenium import webdriver
from selenium.webdriver.chrome.service import Service

from tests.conftest import ROOT, _test_database_url, free_port, wait_for


@pytest.fixture
def web_server_env() -> dict:
    """Extra environment for the web process (a test module may override this fixture)."""
    return {}


@pytest.fixture
def web_server(redis_client, moog_sink, tmp_path, web_server_env):
    """The web process as the Procfile runs it (gunicorn + mutt_project.wsgi) on the test database.

    Its output goes to ``tmp_path / "web.log"``.
    """
    port = free_port()
    env = (
        os.environ
        | {
            "DATABASE_URL": _test_database_url(),
            "MUTT_SERVICE_NAME": "web",
            "MOOG_WEBHOOK_URL": moog_sink.url,
            "LOG_LEVEL": "WARNING",
        }
        | web_server_env
    )
    log = (tmp_path / "web.log").open("w")
    proc = subprocess.Popen(
        [str(Path(sys.executable).parent / "gunicorn"), "mutt_project.wsgi:application",
         "--bind", f"127.0.0.1:{port}", "--workers", "1", "--threads", "4"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"

    def up():
        try:
            return requests.get(url + "/health", timeout=30).status_code == 200
        except requests.RequestException:
            return proc.poll() is not None

    try:
        wait_for(up, timeout=60, message="web server")
        assert proc.poll() is None, (tmp_path / "web.log").read_text()
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        log.close()


@pytest.fixture
def browser():
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    driver_path = shutil.which("chromedriver")
    assert chromium and driver_path, "make test installs chromium and chromium-driver"
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1400,1250"):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(executable_path=driver_path), options=options)
    yield driver
    driver.quit()
