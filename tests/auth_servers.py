"""Helpers for sign-in tests: a users file, and ``c2c serve`` with sign-in in its own process.

The session-wide test app has no users; an app with sign-in runs in a separate process, since a
second app in the test process would take over Dash's page callbacks and the shared store.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from core.users import Users
from tests.servers import ROOT, free_port, wait_for_page

USERS = {"ana": "correct horse battery", "bea": "staple-staple-42"}


def write_users(path: Path) -> Path:
    """A users file with :data:`USERS`."""
    users = Users()
    for name, password in USERS.items():
        users = users.with_password(name, password)
    users.write(path)
    return path


def sign_in_env(folder: Path, **extra: str) -> dict[str, str]:
    """The environment of an app with sign-in whose users file and cache live in ``folder``."""
    return {**os.environ, "C2C_USERS_FILE": str(write_users(folder / "users.json")),
            "C2C_CACHE_DIR": str(folder / "cache"), "OMP_NUM_THREADS": "1", **extra}


@contextmanager
def serving(folder: Path, env: dict[str, str]) -> Iterator[str]:
    """``c2c serve`` on a free port of 127.0.0.1 with ``env``; yields its URL."""
    port = free_port()
    log = folder / "serve.log"
    server = subprocess.Popen([sys.executable, "-m", "core.cli", "serve", "--port", str(port)],
                              cwd=ROOT, env=env, start_new_session=True, stdout=log.open("w"),
                              stderr=subprocess.STDOUT)
    try:
        wait_for_page(f"http://127.0.0.1:{port}/login")
        yield f"http://127.0.0.1:{port}"
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(30)
