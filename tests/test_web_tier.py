"""The web tier from its first second: gunicorn as the Procfile runs it, hit by 50 concurrent
first requests while its workers boot, and again while ``--max-requests`` recycles them."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests

from dashapp import ids
from tests.servers import ROOT, free_port

PROCFILE_COMMAND = (ROOT / "Procfile").read_text().split(":", 1)[1].strip()
WAVE = 50  # concurrent requests, each on its own connection
OK = (200, 204)


@pytest.fixture(scope="module")
def initial_callback(app) -> dict:
    """What the renderer POSTs first: ``state_from_url`` for a page opened without a query."""
    dependencies = app.server.test_client().get("/_dash-dependencies").get_json()
    (callback,) = [c for c in dependencies
                   if c["inputs"] == [{"id": ids.URL, "property": "search"}]]
    outputs = [dict(zip(("id", "property"), output.rsplit(".", 1), strict=True))
               for output in callback["output"].strip(".").split("...")]
    return {"output": callback["output"], "outputs": outputs,
            "inputs": [{"id": ids.URL, "property": "search", "value": ""}],
            "changedPropIds": [], "state": []}


@contextmanager
def gunicorn(tmp_path: Path, extra_options: str = "") -> Iterator[tuple[str, Path]]:
    """The Procfile's command (plus options; later ones win) in a shell; its URL and log.

    Yields as soon as the master listens: requests sent then wait for the first workers.
    """
    port = free_port()
    env = {**os.environ, "PORT": str(port), "SECRET_KEY": "test", "C2C_ALLOW_ANONYMOUS": "1",
           "C2C_CACHE_DIR": str(tmp_path / "cache"),
           "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    env.pop("DATABASE_URL", None)
    log = tmp_path / "gunicorn.log"
    with log.open("w") as sink:
        server = subprocess.Popen(["bash", "-c", f"{PROCFILE_COMMAND} {extra_options}"],
                                  cwd=ROOT, env=env, start_new_session=True, stdout=sink,
                                  stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert server.poll() is None and time.monotonic() < deadline, log.read_text()
                time.sleep(0.05)
        yield f"http://127.0.0.1:{port}", log
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(60)


def fire_wave(base: str, callback: dict) -> list[str]:
    """``WAVE`` requests released at once, a mix of what a browser's first page load sends;
    the ones that were not answered 200/204, described."""
    update = ("POST", "/_dash-update-component", callback)  # the one that needs callbacks
    requests_ = [update, ("GET", "/", None), update, ("GET", "/_dash-layout", None), update,
                 ("GET", "/_dash-dependencies", None)]
    start = threading.Barrier(WAVE)

    def send(number: int) -> str | None:
        method, path, body = requests_[number % len(requests_)]
        start.wait()
        try:
            response = requests.request(method, base + path, json=body, timeout=180,
                                        headers={"Connection": "close"})
        except requests.RequestException as error:
            return f"{method} {path}: {error!r}"
        return None if response.status_code in OK else \
            f"{method} {path}: HTTP {response.status_code} {response.text[:200]}"

    with ThreadPoolExecutor(WAVE) as pool:
        return [problem for problem in pool.map(send, range(WAVE)) if problem]


def test_fifty_concurrent_first_requests_to_a_cold_server_all_succeed(tmp_path,
                                                                       initial_callback):
    with gunicorn(tmp_path) as (base, log):
        assert fire_wave(base, initial_callback) == []
        assert "Callback function not found" not in log.read_text()


def test_requests_while_workers_are_recycled_all_succeed(tmp_path, initial_callback):
    """Waves until four workers were replaced after 20 requests each (at most ten waves)."""
    with gunicorn(tmp_path, "--max-requests 20 --max-requests-jitter 0") as (base, log):
        problems, waves = [], 0
        while log.read_text().count("Booting worker") < 2 + 4 and waves < 10:
            problems += fire_wave(base, initial_callback)
            waves += 1
        text = log.read_text()
    assert problems == []
    assert text.count("Booting worker") >= 2 + 4, text
    assert "Traceback" not in text and "Callback function not found" not in text
