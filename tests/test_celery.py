"""With REDIS_URL set, the sweep runs on a Celery worker through Redis (all real processes)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.support.ui import WebDriverWait

from tests.conftest import pytest_setup_options
from tests.servers import ROOT, free_port, wait_for_page

pytestmark = pytest.mark.skipif(shutil.which("redis-server") is None,
                                reason="redis-server (Debian package redis-server) is absent")
BIN = Path(sys.executable).parent


def start(argv: list[str], env: dict, log: Path) -> subprocess.Popen:
    return subprocess.Popen(argv, cwd=ROOT, env=env, start_new_session=True,
                            stdout=log.open("w"), stderr=subprocess.STDOUT)


def test_sweep_runs_on_a_celery_worker(tmp_path):
    redis_port, web_port = free_port(), free_port()
    env = {**os.environ, "REDIS_URL": f"redis://127.0.0.1:{redis_port}/0",
           "C2C_CACHE_DIR": str(tmp_path / "cache"), "SECRET_KEY": "celery-test",
           "C2C_ALLOW_ANONYMOUS": "1", "OMP_NUM_THREADS": "1"}
    processes = [
        start(["redis-server", "--port", str(redis_port), "--bind", "127.0.0.1", "--save", "",
               "--appendonly", "no"], env, tmp_path / "redis.log"),
        start([str(BIN / "celery"), "-A", "dashapp.wsgi:celery_app", "worker", "--pool=solo",
               "--loglevel=WARNING"], env, tmp_path / "worker.log"),
        start([str(BIN / "gunicorn"), "dashapp.wsgi:server", "--workers", "2", "--bind",
               f"127.0.0.1:{web_port}"], env, tmp_path / "web.log"),
    ]
    driver = None
    try:
        wait_for_page(f"http://127.0.0.1:{web_port}/")
        driver = webdriver.Chrome(options=pytest_setup_options())
        driver.get(f"http://127.0.0.1:{web_port}/choose-k")
        wait = WebDriverWait(driver, 90)
        wait.until(lambda d: d.find_elements("css selector", "#sweep-run"))
        driver.find_element("css selector", "#sweep-run").click()
        wait.until(lambda d: "Recommended: k =" in d.find_element("css selector",
                                                                   "#sweep-summary").text,
                   f"no sweep result; worker log: {(tmp_path / 'worker.log').read_text()[-2000:]}")
        assert driver.find_element("css selector", "#sweep-progress").text == "11/11"
    finally:
        if driver is not None:
            driver.quit()
        for process in processes:
            os.killpg(process.pid, signal.SIGTERM)
        for process in processes:
            process.wait(30)
