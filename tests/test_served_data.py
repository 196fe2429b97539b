"""A server-side customer file (``c2c serve --data``, ``C2C_DATA``) as every workspace's start."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from core.demo import generate_demo_data
from core.errors import ConfigError, DataValidationError
from dashapp import ids
from dashapp.config import Settings
from dashapp.store import Store
from tests.dash_helpers import TIMEOUT
from tests.servers import ROOT, free_port, wait_for_page


@pytest.fixture
def served(tmp_path):
    path = tmp_path / "portfolio.csv"
    generate_demo_data(1_200, seed=5).to_csv(path, index=False)
    return path


def test_the_served_file_is_the_starting_data_of_every_worker(tmp_path, served):
    first = Store(tmp_path / "store", starting_file=served)
    second = Store(tmp_path / "store", starting_file=served)  # another gunicorn worker
    assert first.starting_id == second.starting_id and first.starting_id.startswith("file-")
    assert first.has(first.starting_id) and not first.has("demo")
    data = second.data(second.starting_id)
    assert len(data.frame) == 1_200 and data.source == "portfolio.csv"
    assert first.starting_name == "portfolio.csv"


def test_another_file_under_the_same_cache_gets_its_own_id(tmp_path, served):
    before = Store(tmp_path / "store", starting_file=served).starting_id
    generate_demo_data(800, seed=6).to_csv(served, index=False)  # replaced while the cache stays
    after = Store(tmp_path / "store", starting_file=served)
    assert after.starting_id != before and len(after.data(after.starting_id).frame) == 800


def test_starting_data_dropped_from_a_full_cache_is_loaded_again(tmp_path, served):
    store = Store(tmp_path / "store", starting_file=served)
    store.cache.delete(("data", store.starting_id))
    assert len(store.data(store.starting_id).frame) == 1_200


def test_a_malformed_served_file_is_refused_with_its_problem(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("CUST_ID,BALANCE\nC1,abc\n")
    with pytest.raises(DataValidationError, match="bad.csv"):
        Store(tmp_path / "store", starting_file=bad)


def test_c2c_data_must_name_a_file(tmp_path, monkeypatch, served):
    monkeypatch.setenv("C2C_DATA", str(tmp_path / "missing.parquet"))
    with pytest.raises(ConfigError, match="C2C_DATA: no such file"):
        Settings.from_env()
    monkeypatch.setenv("C2C_DATA", str(served))
    assert Settings.from_env().data_file == served.resolve()


def test_serve_with_a_missing_data_file_exits_2_with_one_line(tmp_path, capsys):
    from core.cli import main

    assert main(["serve", "--port", str(free_port()), "--data", str(tmp_path / "none.csv")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--data: no such file" in err and "Traceback" not in err


def test_serve_data_starts_the_app_on_the_file(dash_duo, tmp_path, served):
    """``c2c serve --data`` for real, in Chromium: the footer names the file, its 1,200
    customers are segmented, and the Data page offers to go back to it."""
    port = free_port()
    c2c = str(Path(sys.executable).with_name("c2c"))
    server = subprocess.Popen([c2c, "serve", "--port", str(port), "--data", str(served)],
                              cwd=ROOT, env={**os.environ, "C2C_CACHE_DIR": str(tmp_path / "c")},
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        base = f"http://127.0.0.1:{port}"
        assert wait_for_page(base + "/").status_code == 200
        dash_duo.driver.get(base + "/segments")
        dash_duo.wait_for_contains_text(f"#{ids.FOOTER}", "portfolio.csv", timeout=TIMEOUT)
        assert "1,200 customers" in dash_duo.find_element(f"#{ids.FOOTER}").text
        dash_duo.wait_for_contains_text(f"#{ids.MAP_NOTE}", "4 segments", timeout=TIMEOUT)
        dash_duo.driver.get(base + "/data")
        dash_duo.wait_for_text_to_equal(f"#{ids.BACK_TO_DEMO}", "Back to portfolio.csv",
                                        timeout=TIMEOUT)
        assert dash_duo.get_logs() == []
    finally:
        server.terminate()
        server.wait(30)
