"""Test setup: headless Debian Chromium for the dash[testing] browser tests."""

from __future__ import annotations

import os
import shutil

from selenium.webdriver.chrome.options import Options

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
os.environ.setdefault("DASH_TEST_CHROMEPATH", CHROMIUM)
os.environ.setdefault("SE_OFFLINE", "true")


def pytest_setup_options() -> Options:
    """dash.testing hook: headless Debian Chromium, as root, in a closed network."""
    options = Options()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--window-size=1400,1000", "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--disable-quic"):
        options.add_argument(arg)
    return options
