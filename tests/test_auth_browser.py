"""Signing in and out in headless Chromium, against ``c2c serve`` with a users file."""

from __future__ import annotations

import pytest
from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from dashapp import ids
from tests.auth_servers import USERS, serving, sign_in_env
from tests.conftest import pytest_setup_options
from tests.dash_helpers import TIMEOUT

pytestmark = pytest.mark.browser


def fill_in(driver, name: str, password: str) -> None:
    driver.find_element(By.ID, "username").clear()
    driver.find_element(By.ID, "username").send_keys(name)
    driver.find_element(By.ID, "password").send_keys(password)
    driver.find_element(By.ID, "sign-in").click()


def test_sign_in_see_the_overview_and_sign_out(tmp_path):
    options = pytest_setup_options()
    options.set_capability("goog:loggingPrefs", {"browser": "SEVERE"})
    with serving(tmp_path, sign_in_env(tmp_path)) as url:
        driver = webdriver.Chrome(options=options)
        try:
            wait = WebDriverWait(driver, TIMEOUT)
            driver.get(f"{url}/?k=5")
            wait.until(lambda d: d.find_elements(By.ID, "sign-in"))
            assert driver.current_url == f"{url}/login?next=/?k%3D5"

            fill_in(driver, "ana", "not the password")
            wait.until(lambda d: "Wrong user name or password." in d.page_source)
            refused = driver.get_log("browser")  # Chromium logs the 401 of the refused form
            assert [(e["source"], f"{url}/login " in e["message"], "401" in e["message"])
                    for e in refused] == [("network", True, True)]
            fill_in(driver, "ana", USERS["ana"])
            wait.until(lambda d: "9,000" in d.find_element(By.ID, ids.KPI_ROW).text)
            assert driver.current_url.startswith(f"{url}/?")
            assert "k=5" in driver.current_url
            nav = driver.find_element(By.CSS_SELECTOR, "nav").text
            assert "ana" in nav and "Sign out" in nav

            driver.find_element(By.LINK_TEXT, "Sign out").click()
            wait.until(lambda d: "You have signed out." in d.page_source)
            driver.get(f"{url}/segments")
            wait.until(lambda d: d.find_elements(By.ID, "sign-in"))
            assert driver.current_url == f"{url}/login?next=/segments"
            assert driver.get_log("browser") == []
        finally:
            driver.quit()
