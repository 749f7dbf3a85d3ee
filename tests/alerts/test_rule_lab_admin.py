"""Rule lab in the admin, in a real browser (headless Chromium): test and backtest unsaved form values."""

from __future__ import annotations

import shutil

import pytest
from django.contrib.auth import get_user_model
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.select import Select
from selenium.webdriver.support.ui import WebDriverWait

from alerts.models import AlertRule
from alerts.rule_cache import ruleset_forget
from alerts.services.rule_health import rule_health_compute
from tests.alerts.factories import make_rule
from tests.alerts.test_rule_lab_api import seed_audit

PASSWORD = "browser-test-pw-1"  # a throwaway test user's password, not a secret


@pytest.fixture
def browser(live_server, transactional_db, redis_client):
    ruleset_forget()
    get_user_model().objects.create_superuser("lab-admin", "lab@example.invalid", PASSWORD)
    options = webdriver.ChromeOptions()
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"):
        options.add_argument(arg)
    options.binary_location = shutil.which("chromium")
    driver = webdriver.Chrome(options=options, service=Service(shutil.which("chromedriver")))
    driver.implicitly_wait(0)
    driver.get(live_server.url + "/admin/login/")
    driver.find_element(By.NAME, "username").send_keys("lab-admin")
    driver.find_element(By.NAME, "password").send_keys(PASSWORD)
    driver.find_element(By.CSS_SELECTOR, "input[type=submit]").click()
    WebDriverWait(driver, 10).until(lambda d: "/admin/login" not in d.current_url)
    driver.base = live_server.url
    yield driver
    driver.quit()
    ruleset_forget()


def wait_text(driver, css: str, timeout: float = 20) -> str:
    return WebDriverWait(driver, timeout).until(
        lambda d: (els := d.find_elements(By.CSS_SELECTOR, css)) and els[0].text.strip() and els[0].text
    )


def fill_rule(driver, match_string: str, priority: int, prod: str = "Suppress") -> None:
    driver.find_element(By.NAME, "match_string").send_keys(match_string)
    Select(driver.find_element(By.NAME, "match_type")).select_by_value("contains")
    priority_input = driver.find_element(By.NAME, "priority")
    priority_input.clear()
    priority_input.send_keys(str(priority))
    Select(driver.find_element(By.NAME, "prod_handling")).select_by_value(prod)
    Select(driver.find_element(By.NAME, "dev_handling")).select_by_value("Log_only")


def test_the_sample_box_runs_the_unsaved_form_and_shows_winner_and_runner_up(browser):
    live = make_rule(match_string="down", priority=500, prod_handling="Page_and_ticket")
    browser.get(browser.base + "/admin/alerts/alertrule/add/")
    fill_rule(browser, "link", 900, prod="Suppress")
    browser.find_element(By.ID, "lab-sample-message").send_keys("link down on Gi0/1")
    browser.find_element(By.ID, "rule-lab-test-button").click()
    text = wait_text(browser, "#rule-lab-test-table")
    assert '(this form) priority 900: contains "link" at 0-4' in text
    assert f"#{live.pk} priority 500" in text  # the runner-up it would shadow
    assert "Suppress" in text
    assert "Forwarded to Moogsoft\tno" in text or "Forwarded to Moogsoft no" in text
    assert AlertRule.objects.count() == 1  # nothing saved


def test_the_sample_box_shows_the_models_refusal_before_save(browser):
    browser.get(browser.base + "/admin/alerts/alertrule/add/")
    fill_rule(browser, r"(a)\1", 900)
    Select(browser.find_element(By.NAME, "match_type")).select_by_value("regex")
    browser.find_element(By.ID, "lab-sample-message").send_keys("aa")
    browser.find_element(By.ID, "rule-lab-test-button").click()
    assert "Pattern refused" in wait_text(browser, "#rule-lab-test-result .rule-lab-errors")
    assert AlertRule.objects.count() == 0


def test_backtest_this_change_shows_the_report_from_a_worker(browser, empty_audit_log, workers):
    live = make_rule(match_string="down", priority=500, prod_handling="Ticket_only")
    seed_audit([{"message": "BGP link down", "rule_id": live.pk, "handling": "Ticket_only"} for _ in range(30)])
    workers.start(queues="maintenance")
    browser.get(browser.base + f"/admin/alerts/alertrule/{live.pk}/change/")
    priority = browser.find_element(By.NAME, "priority")
    priority.clear()
    priority.send_keys("600")
    Select(browser.find_element(By.NAME, "prod_handling")).select_by_value("Page_only")
    browser.find_element(By.ID, "rule-lab-backtest-button").click()
    text = wait_text(browser, "#rule-lab-backtest-table", timeout=60)
    assert "Events scanned\t30" in text or "Events scanned 30" in text
    assert "30 × Ticket_only/NETO/forwarded → Page_only/NETO/forwarded" in text
    assert browser.find_element(By.ID, "rule-lab-backtest-progress").get_attribute("value") == "100"
    assert AlertRule.objects.get(pk=live.pk).prod_handling == "Ticket_only"  # the edit was never saved


def test_rule_health_page_flags_a_shadowed_and_a_never_matching_rule(browser, empty_audit_log):
    winner = make_rule(match_string="link", priority=900)
    shadowed = make_rule(match_string="down", priority=100)
    never = make_rule(match_string="no such text", priority=50)
    seed_audit([{"message": "link down", "rule_id": winner.pk} for _ in range(3)])
    rule_health_compute()
    browser.get(browser.base + "/admin/alerts/alertrule/")
    browser.find_element(By.ID, "rule-health-link").click()
    flags = {
        int(row.get_attribute("data-rule-id")): row.find_element(By.CLASS_NAME, "rule-health-flags").text
        for row in browser.find_elements(By.CSS_SELECTOR, "tr.rule-health-row")
    }
    assert flags[winner.pk] == ""
    assert flags[shadowed.pk] == f"shadowed by #{winner.pk}"
    assert flags[never.pk] == "never matched"
    browser.find_element(By.CSS_SELECTOR, "a[href='?o=hits_24h']").click()
    WebDriverWait(browser, 10).until(lambda d: d.current_url.endswith("?o=hits_24h"))
    browser.find_element(By.CSS_SELECTOR, "a[href='?o=-hits_24h']").click()  # second click: descending
    WebDriverWait(browser, 10).until(lambda d: d.current_url.endswith("?o=-hits_24h"))
    first = browser.find_elements(By.CSS_SELECTOR, "tr.rule-health-row")[0]
    assert int(first.get_attribute("data-rule-id")) == winner.pk
