"""Test setup: headless Debian Chromium for dash[testing], and fresh apps for app tests."""

from __future__ import annotations

import os
import shutil
from importlib import import_module
from types import SimpleNamespace

import pytest
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


UPLOAD_LIMIT = 5 * 1024 * 1024


@pytest.fixture(scope="session")
def app(tmp_path_factory):
    """The app, created once: Dash hands page callbacks to the first app of a process only."""
    from dashapp.app import create_app
    from dashapp.config import Settings

    return create_app(Settings(secret_key="test-secret",
                               cache_dir=tmp_path_factory.mktemp("cache"),
                               upload_max_bytes=UPLOAD_LIMIT, redis_url=None))


@pytest.fixture
def demo_state(app):
    """The view state of the demo data with default settings."""
    from dashapp.store import get_store

    return {"data": get_store().starting_id}


@pytest.fixture
def pages(app):
    """The page modules, as Dash imported them (top-level ``pages.*``, once an app exists)."""
    return SimpleNamespace(**{name: import_module(f"pages.{name}")
                              for name in ("campaigns", "choose_k", "data", "overview",
                                           "segments")})
