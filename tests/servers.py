"""Helpers for tests that start real servers: free ports and waiting for a page."""

from __future__ import annotations

import socket
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_page(url: str, seconds: float = 90) -> requests.Response:
    """GET ``url`` once the server answers: gunicorn accepts connections before its workers
    have imported the app (seconds, with several workers booting on two cores)."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            return requests.get(url, timeout=30)
        except (requests.ConnectionError, requests.Timeout):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)
