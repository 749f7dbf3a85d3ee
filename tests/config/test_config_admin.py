"""Configuration versions in the admin, in a real browser (headless Chromium): list, diff, roll back."""

from __future__ import annotations

from selenium.webdriver.common.by import By
from selenium.webdriver.support.select import Select
from selenium.webdriver.support.ui import WebDriverWait

from alerts.models import AlertRule, ConfigVersion
from alerts.services.config import ConfigChange
from alerts.services.config_apply import config_apply
from tests.alerts.test_rule_lab_admin import browser, wait_text  # noqa: F401  (the logged-in browser fixture)
from tests.config.conftest import GOOD

BAD = GOOD.replace("  prod_handling: Page_and_ticket\n", "  prod_handling: Suppress\n", 1)


def test_an_operator_diffs_two_versions_and_rolls_back_in_the_admin(browser, empty_config):  # noqa: F811
    good = config_apply(GOOD, change=ConfigChange(user="alice", reason="good"))["version"]
    bad = config_apply(BAD, change=ConfigChange(user="bob", reason="oops"))["version"]
    browser.get(browser.base + "/admin/alerts/configversion/")
    listing = wait_text(browser, "#result_list")
    assert "oops" in listing and "bob" in listing

    browser.get(browser.base + f"/admin/alerts/configversion/{good}/change/")
    Select(browser.find_element(By.ID, "other")).select_by_value(str(bad))
    browser.find_element(By.CSS_SELECTOR, "#config-version-diff-form input[type=submit]").click()
    assert (
        wait_text(browser, "#config-version-diff") == "~ rules/core-down: prod_handling: 'Page_and_ticket' → 'Suppress'"
    )

    browser.get(browser.base + f"/admin/alerts/configversion/{good}/change/")
    browser.find_element(By.ID, "reason").send_keys("bad routing")
    browser.find_element(By.CSS_SELECTOR, "#config-version-rollback-form input[type=submit]").click()
    WebDriverWait(browser, 20).until(lambda d: d.current_url.endswith("/admin/alerts/configversion/"))
    assert f"Rolled back to version {good}" in wait_text(browser, ".messagelist")
    assert AlertRule.objects.get(key="core-down").prod_handling == "Page_and_ticket"
    latest = ConfigVersion.objects.latest("number")
    assert (latest.source, latest.created_by, latest.reason) == ("rollback", "lab-admin", f"rollback to version {good}: bad routing")  # fmt: skip
