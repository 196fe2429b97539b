"""How the app runs in production: gunicorn from the Procfile, and forked background jobs."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import requests

from tests.servers import ROOT, free_port, wait_for_page

FORK_CHECK = """
import multiprocess, numpy as np
from core.clustering import fit_clusters
X = np.random.default_rng(0).normal(size=(9000, 17))
fit_clusters(X, k=9, n_init=10)                       # the web process fits first ...
def job(seed):
    fit_clusters(np.random.default_rng(seed).normal(size=(9000, 17)), k=9, n_init=3)
jobs = [multiprocess.Process(target=job, args=(s,)) for s in range(10)]   # ... then forks
for p in jobs: p.start()
for p in jobs: p.join(60)
print(sum(p.exitcode == 0 for p in jobs))
"""


def test_fit_in_the_web_process_then_ten_forked_jobs_all_finish():
    """OpenMP is not fork-safe: fits must leave no thread pool behind for forked jobs."""
    env = {k: v for k, v in os.environ.items() if k != "OMP_NUM_THREADS"}  # the risky default
    done = subprocess.run([sys.executable, "-c", FORK_CHECK], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=240)
    assert done.stdout.strip() == "10", done.stderr


def test_procfile_starts_gunicorn_serving_the_app(tmp_path):
    """The Procfile's command, run by a shell as a platform would, serves the app."""
    command = (ROOT / "Procfile").read_text().split(":", 1)[1].strip()
    port = free_port()
    env = {**os.environ, "PORT": str(port), "C2C_CACHE_DIR": str(tmp_path / "cache"),
           "SECRET_KEY": "deployment-test", "C2C_ALLOW_ANONYMOUS": "1",  # no sign-in here
           "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    server = subprocess.Popen(["bash", "-c", command], cwd=ROOT, env=env, start_new_session=True,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        page = wait_for_page(f"http://127.0.0.1:{port}/")
        assert "_dash-config" in page.text
        assert requests.get(f"http://127.0.0.1:{port}/_dash-layout", timeout=10).ok
        debugger = requests.get(f"http://127.0.0.1:{port}/?__debugger__=yes&cmd=resource"
                                "&f=debugger.js", timeout=10)
        assert "Werkzeug" not in debugger.text  # no interactive debugger in production
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(30)

