"""The content security policy in a real browser (headless Chromium): the dashboard, the rule lab's test
box and a backtest work with the policy on and the console shows no violation; an event carrying
<script> and <img onerror> in its hostname and message is shown as text everywhere, and runs nothing."""

from __future__ import annotations

import shutil

import orjson
import pytest
import requests
from django.contrib.auth import get_user_model
from django.db import connection
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from alerts.rule_cache import ruleset_forget
from tests.alerts.factories import make_rule
from tests.conftest import wait_for

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

PASSWORD = "csp-browser-test-pw"  # a throwaway user in the throwaway test database
HOST = "<script>window.pwned='host'</script>edge-1"
MESSAGE = "link down <img src=x onerror=\"window.pwned='img'\"> <script>window.pwned='msg'</script>"


@pytest.fixture
def browser(live_server, redis_client):
    ruleset_forget()
    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium")
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1400,1250"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(shutil.which("chromedriver")))
    driver.base = live_server.url
    yield driver
    driver.quit()
    ruleset_forget()


@pytest.fixture
def empty_audit_log(transactional_db):
    """``event_audit_log`` is unmanaged (partitioned by raw SQL): Django's flush leaves it alone."""
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE event_audit_log")
    yield
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE event_audit_log")


def _violations(driver) -> list[str]:
    return [
        entry["message"]
        for entry in driver.get_log("browser")
        if "Content Security Policy" in entry["message"] or "Refused to" in entry["message"]
    ]


def _nothing_ran(driver) -> None:
    assert driver.execute_script("return window.pwned === undefined"), driver.execute_script("return window.pwned")
    assert not driver.find_elements(By.CSS_SELECTOR, "img[src='x']")  # the tag was never parsed as HTML


def _text(driver, css: str, wanted: str, timeout: float = 30) -> str:
    return WebDriverWait(driver, timeout).until(
        lambda d: (els := d.find_elements(By.CSS_SELECTOR, css)) and wanted in els[0].text and els[0].text
    )


def test_policy_headers_are_sent(client):
    answer = client.get("/admin/login/")
    policy = answer.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in policy and "'unsafe-inline'" not in policy and "script-src 'self'" in policy
    assert answer.headers["Referrer-Policy"] == "same-origin"
    assert answer.headers["X-Content-Type-Options"] == "nosniff"
    assert answer.headers["X-Frame-Options"] == "DENY"


def test_pages_work_under_the_policy_and_hostile_text_stays_text(browser, workers, api_key, empty_audit_log):
    get_user_model().objects.create_superuser("oncall", "oncall@example.net", PASSWORD)
    rule = make_rule(match_string="link down", prod_handling="Page_and_ticket")
    workers.start(concurrency=2)
    sent = requests.post(
        browser.base + "/api/v2/ingest",
        data=orjson.dumps({"hostname": HOST, "message": MESSAGE, "timestamp": "2026-01-01T00:00:00Z"}),
        headers={"X-API-Key": api_key, "Content-Type": "application/json"},
        timeout=10,
    )
    assert sent.status_code == 202, sent.text
    correlation_id = sent.json()["correlation_id"]

    browser.get(browser.base + "/admin/login/?next=/")
    browser.find_element(By.NAME, "username").send_keys("oncall")
    browser.find_element(By.NAME, "password").send_keys(PASSWORD)
    browser.find_element(By.CSS_SELECTOR, "input[type=submit]").click()
    WebDriverWait(browser, 15).until(lambda b: "MUTT operations" in b.title)

    # Dashboard: the forwarded alert appears (htmx refresh), its host and message as text.
    shown = _text(browser, "#last-forwarded", "<script>window.pwned='host'</script>", timeout=60)
    assert "<img src=x" in shown
    assert browser.execute_script("return !!window.muttChart")  # the chart script ran under the policy
    _nothing_ran(browser)

    # The admin's event list and the event trace.
    browser.get(browser.base + "/admin/alerts/eventauditlog/")
    assert "<script>window.pwned='host'</script>" in browser.find_element(By.ID, "result_list").text
    _nothing_ran(browser)
    browser.get(browser.base + f"/api/v2/events/{correlation_id}")
    assert "<img src=x onerror" in browser.find_element(By.TAG_NAME, "body").text
    _nothing_ran(browser)

    # Rule lab: the sample box with the hostile sample, then a backtest (over the stored hostile event).
    browser.get(browser.base + f"/admin/alerts/alertrule/{rule.pk}/change/")
    browser.find_element(By.ID, "lab-sample-hostname").clear()
    browser.find_element(By.ID, "lab-sample-hostname").send_keys(HOST)
    browser.find_element(By.ID, "lab-sample-message").send_keys(MESSAGE)
    browser.find_element(By.ID, "rule-lab-test-button").click()
    table = _text(browser, "#rule-lab-test-table", "Winner")
    assert "<script>window.pwned='host'</script>" in table
    assert "<img src=x" in browser.find_element(By.ID, "rule-lab-moog-payload").text
    browser.find_element(By.ID, "rule-lab-backtest-button").click()
    report = _text(browser, "#rule-lab-backtest-table", "Events scanned", timeout=90)
    assert "Events scanned\t1" in report or "Events scanned 1" in report
    _nothing_ran(browser)

    assert _violations(browser) == []


def test_the_violation_check_can_fail(browser, live_server):
    """The console check above sees an inline script the policy refuses (so an empty list means something)."""
    browser.get(live_server.url + "/admin/login/")
    browser.execute_script(
        "const s = document.createElement('script'); s.textContent = 'window.pwned = 1'; document.head.append(s);"
    )
    wait_for(lambda: _violations(browser), timeout=10, message="a CSP violation in the console")
    _nothing_ran(browser)
