"""The dashboard in a real browser (system Chromium through Selenium) against the real web process,
real Celery workers, PostgreSQL and Redis; Moogsoft is the stand-in.

Saves a screenshot to .run/dashboard.png (MUTT_UPDATE_SCREENSHOT=1: to docs/dashboard.png, the one the docs show).
"""

from __future__ import annotations

import os
from datetime import UTC, datetime

import orjson
import pytest
import requests
from django.contrib.auth import get_user_model
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from mutt_project.celery import app
from mutt_project.queues import Queue, TaskName
from tests.alerts.factories import make_rule
from tests.conftest import ROOT

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

PASSWORD = "browser-test-password"  # a throwaway user in the throwaway test database


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
    # A test run leaves the tracked picture alone unless asked to refresh it.
    target = ROOT / "docs" if os.environ.get("MUTT_UPDATE_SCREENSHOT") == "1" else ROOT / ".run"
    target.mkdir(exist_ok=True)
    assert browser.save_screenshot(str(target / "dashboard.png"))
