"""The dashboard in a real browser (system Chromium through Selenium) against the real web process,
real Celery workers, PostgreSQL and Redis; Moogsoft is the stand-in.

Saves the screenshot docs/dashboard.png.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest
import requests
from django.contrib.auth import get_user_model
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from mutt_project.celery import app
from mutt_project.queues import Queue, TaskName
from tests.alerts.factories import make_rule
from tests.conftest import ROOT, _test_database_url, free_port, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

PASSWORD = "browser-test-password"  # a throwaway user in the throwaway test database


@pytest.fixture
def web_server(redis_client, moog_sink, tmp_path):
    """The web process as the Procfile runs it (gunicorn + mutt_project.wsgi) on the test database."""
    port = free_port()
    env = os.environ | {
        "DATABASE_URL": _test_database_url(),
        "MUTT_SERVICE_NAME": "web",
        "MOOG_WEBHOOK_URL": moog_sink.url,
        "LOG_LEVEL": "WARNING",
    }
    log = (tmp_path / "web.log").open("w")
    proc = subprocess.Popen(
        [str(Path(sys.executable).parent / "gunicorn"), "mutt_project.wsgi:application",
         "--bind", f"127.0.0.1:{port}", "--workers", "1", "--threads", "4"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"

    def up():
        try:
            return requests.get(url + "/health", timeout=2).status_code == 200
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


def _events(n: int, message: str) -> bytes:
    now = datetime.now(UTC).isoformat()
    return b"\n".join(
        orjson.dumps({"timestamp": now, "hostname": f"edge-{i % 4}", "message": message}) for i in range(n)
    )


def _post(url: str, api_key: str, body: bytes) -> None:
    answer = requests.post(
        url + "/api/v2/ingest",
        data=body,
        headers={"X-API-Key": api_key, "Content-Type": "application/x-ndjson"},
        timeout=10,
    )
    assert answer.status_code == 202, answer.text


def _text(browser, element_id: str) -> str:
    return browser.find_element(By.ID, element_id).text


def _chart_total(browser) -> float:
    return browser.execute_script("return window.muttChart ? window.muttChart.data[1].reduce((a, b) => a + b, 0) : -1")


def test_operator_sees_events_arrive_and_the_breaker_open(web_server, browser, workers, moog_sink, api_key):
    get_user_model().objects.create_superuser("oncall", "oncall@example.net", PASSWORD)
    make_rule(match_string="link down", prod_handling="Page_and_ticket")
    workers.start(concurrency=2)
    for queue in Queue:  # what Beat does every 10 s: one heartbeat per queue
        app.send_task(TaskName.QUEUE_HEARTBEAT.value, args=[queue.value], queue=queue.value)

    browser.get(web_server + "/")
    assert "/admin/login/" in browser.current_url  # login required
    browser.find_element(By.NAME, "username").send_keys("oncall")
    browser.find_element(By.NAME, "password").send_keys(PASSWORD)
    browser.find_element(By.CSS_SELECTOR, "input[type=submit]").click()
    WebDriverWait(browser, 10).until(lambda b: b.current_url.rstrip("/") == web_server)
    assert "MUTT operations" in browser.title
    assert _text(browser, "accepted-today") == "0" and _text(browser, "breaker-state") == "closed"
    WebDriverWait(browser, 10).until(lambda b: _chart_total(b) == 0)  # chart drawn, empty

    _post(web_server, api_key, _events(60, "Interface Gi0/1 link down"))

    # htmx refreshes the panels every 5 s; the numbers and the chart move without a reload.
    WebDriverWait(browser, 10).until(lambda b: _text(b, "accepted-today") == "60")
    WebDriverWait(browser, 10).until(lambda b: _chart_total(b) > 0)
    WebDriverWait(browser, 20).until(lambda b: _text(b, "forwarded-today") == "60")
    assert "edge-" in _text(browser, "last-forwarded")

    moog_sink.control(status=503, for_seconds=120, body="moogsoft is down")
    _post(web_server, api_key, _events(20, "Interface Gi0/2 link down"))
    WebDriverWait(browser, 20).until(lambda b: _text(b, "breaker-state") == "open")
    WebDriverWait(browser, 10).until(lambda b: "503" in _text(b, "moog-last-error"))
    WebDriverWait(browser, 10).until(lambda b: "queue classify" in _text(b, "health"))
    browser.save_screenshot(str(ROOT / "docs" / "dashboard.png"))
