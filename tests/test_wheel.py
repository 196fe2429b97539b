"""The project installs like real software: the built wheel, in a fresh virtualenv, run from a
folder outside the repository, fits the built-in demo data and serves the app with its CSS."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pandas as pd
import pytest
import requests

from dashapp import ids
from tests.servers import ROOT, free_port

INSTALL_SECONDS = 1800  # a cold pip cache downloads dash, pandas, scikit-learn, pyarrow, ...
# What a build needs is copied out of the working tree, so the build neither writes build/ and
# *.egg-info into it nor packs stale files from an earlier build/lib.
NOT_BUILD_INPUT = shutil.ignore_patterns(
    ".git", ".venv", ".tmp", ".cache", "build", "dist", "out", "*.egg-info", "__pycache__",
    ".pytest_cache", ".ruff_cache", ".hypothesis")


def _run(args: list, timeout: float, **kwargs) -> subprocess.CompletedProcess:
    done = subprocess.run([str(a) for a in args], capture_output=True, text=True,
                          timeout=timeout, **kwargs)
    assert done.returncode == 0, f"{args} failed:\n{done.stdout}\n{done.stderr}"
    return done


def _outside_env() -> dict[str, str]:
    """The environment without anything that would put the repository on sys.path."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    return env | {"OMP_NUM_THREADS": "1"}


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    work = tmp_path_factory.mktemp("wheel")
    shutil.copytree(ROOT, work / "source", ignore=NOT_BUILD_INPUT)
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--disable-pip-version-check",
          "-q", "-w", work / "dist", work / "source"], timeout=600)
    (built,) = (work / "dist").glob("clusters_to_campaigns-*.whl")
    return built


@pytest.fixture(scope="module")
def installed(wheel, tmp_path_factory) -> Path:
    """A fresh virtualenv with the wheel and its dependencies; returns its ``bin`` folder."""
    venv = tmp_path_factory.mktemp("venv") / "env"
    _run([sys.executable, "-m", "venv", venv], timeout=300)
    _run([venv / "bin" / "python", "-m", "pip", "install", "--disable-pip-version-check", "-q",
          wheel], timeout=INSTALL_SECONDS, env=_outside_env())
    return venv / "bin"


def test_the_wheel_holds_the_code_demo_data_and_assets_but_no_tests(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    code = {p.relative_to(ROOT).as_posix() for package in ("core", "dashapp")
            for p in (ROOT / package).rglob("*.py") if "__pycache__" not in p.parts}
    assert code <= names, f"modules missing from the wheel: {sorted(code - names)}"
    assert {"core/data/demo_customers.csv", "core/data/README.md"} <= names
    assets = {f"dashapp/assets/{p.name}" for p in (ROOT / "assets").iterdir()
              if p.is_file() and not p.name.startswith(".")}
    assert {"dashapp/assets/bootstrap.min.css", "dashapp/assets/style.css"} <= assets <= names
    top = {name.split("/")[0] for name in names}
    assert {t for t in top if not t.endswith(".dist-info")} == {"core", "dashapp"}


def test_installed_c2c_fits_the_demo_data_from_any_folder(installed, tmp_path):
    where = _run([installed / "python", "-c", "import core, dashapp; "
                  "print(core.__file__); print(dashapp.__file__)"],
                 timeout=120, cwd=tmp_path, env=_outside_env()).stdout.split()
    assert all(Path(f).is_relative_to(installed.parent) for f in where), where
    _run([installed / "c2c", "fit", "--k", "3", "--out", "out"], timeout=300, cwd=tmp_path,
         env=_outside_env())
    assert len(pd.read_csv(tmp_path / "out" / "assignments.csv")) == 9000
    assert len(pd.read_csv(tmp_path / "out" / "profiles.csv")) == 3
    assert json.loads((tmp_path / "out" / "model.json").read_text(encoding="utf-8"))


def _output_ids(source: Path) -> set[str]:
    """The component ids a module's callbacks write, from its ``Output(ids.NAME`` calls."""
    return {getattr(ids, name)
            for name in re.findall(r"Output\(\s*ids\.(\w+)", source.read_text(encoding="utf-8"))}


def test_installed_c2c_serves_the_app_with_its_stylesheets(installed, tmp_path):
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = (tmp_path / "serve.log").open("w")
    server = subprocess.Popen([installed / "c2c", "serve", "--port", str(port)], cwd=tmp_path,
                              env=_outside_env(), stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 120
        while True:
            assert server.poll() is None, (tmp_path / "serve.log").read_text()
            try:
                page = requests.get(url + "/", timeout=10)
                break
            except requests.ConnectionError:
                assert time.monotonic() < deadline, (tmp_path / "serve.log").read_text()
                time.sleep(0.5)
        assert page.status_code == 200
        sheets = re.findall(r'<link rel="stylesheet" href="([^"?]+)', page.text)
        assert {"/assets/bootstrap.min.css", "/assets/style.css"} <= set(sheets)
        for sheet in sheets:
            css = requests.get(url + sheet, timeout=10)
            assert css.status_code == 200 and css.headers["Content-Type"].startswith("text/css")
            assert "{" in css.text
        assert "Bootstrap" in requests.get(url + "/assets/bootstrap.min.css", timeout=10).text

        # Every page module was found and imported: its callbacks are registered.
        dependencies = requests.get(url + "/_dash-dependencies", timeout=10).json()
        outputs = {part.rpartition(".")[0] for dep in dependencies
                   for part in dep["output"].strip(".").split("...")}
        shell = _output_ids(ROOT / "dashapp" / "app.py")
        for module in sorted((ROOT / "dashapp" / "pages").glob("*.py")):
            own = _output_ids(module) - shell
            assert not own or own & outputs, f"callbacks of {module.name} are not registered"
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=30)
        log.close()
