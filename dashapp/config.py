"""App settings, read once from environment variables (documented in the README)."""

from __future__ import annotations

import ipaddress
import math
import os
from dataclasses import dataclass
from pathlib import Path

from core.currency import currency
from core.errors import ConfigError

MB = 1024 * 1024


def _flag(name: str, default: bool = False) -> bool:
    """An on/off environment variable: 1/true/yes/on or 0/false/no/off (unset: ``default``)."""
    value = os.environ.get(name, "").strip().lower()
    if not value:
        return default
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"{name} must be 1 or 0; got {os.environ[name]!r}")


def _count(name: str) -> int:
    """A whole-number environment variable (unset: 0)."""
    value = os.environ.get(name, "0").strip() or "0"
    if not value.isdigit():
        raise ConfigError(f"{name} must be a whole number (0, 1, 2, ...); got {value!r}")
    return int(value)


def _hours(name: str, default: float = 24.0) -> float:
    """A positive number of hours (unset: ``default``)."""
    value = os.environ.get(name, "").strip()
    try:
        hours = float(value) if value else default
    except ValueError:
        hours = math.nan
    if not 0 < hours <= 24 * 365:
        raise ConfigError(f"{name} must be a number of hours above 0 (at most a year); "
                          f"got {value!r}")
    return hours


def existing_file(name: str, path: str) -> Path:
    """``path`` resolved, or a ConfigError naming ``name`` when there is no such file."""
    resolved = Path(path).expanduser().resolve()
    if not resolved.is_file():
        raise ConfigError(f"{name}: no such file: {path}")
    return resolved


def is_loopback(host: str) -> bool:
    """True for addresses only this machine can reach: ``localhost``, 127.0.0.0/8, ``::1``."""
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip().strip("[]")).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class Settings:
    """Deployment settings; every gunicorn worker must see the same values.

    gunicorn (``dashapp/wsgi.py``) refuses to start without ``SECRET_KEY``. ``c2c serve`` is one
    process and may go without: Dash then keeps a generated job-signing secret in the job
    cache, and sign-in uses a random key of the process (sessions end when it stops).
    """

    secret_key: str | None
    cache_dir: Path
    upload_max_bytes: int
    redis_url: str | None
    plans_url: str | None = None  # SQLAlchemy URL; None: plans.db in the cache directory
    users_file: Path | None = None  # who may sign in; None: no sign-in (local use only)
    allow_anonymous: bool = False  # a proxy in front signs users in
    https: bool = False  # served over HTTPS: Secure cookies and HSTS
    proxies: int = 0  # proxies in front whose X-Forwarded-For/-Proto are trusted
    retention_hours: float = 24.0  # uploads and results are deleted this long after use
    prefetch: bool = True  # fit the next k after each quick fit, so the next step is warm
    data_file: Path | None = None  # every workspace's starting customers; None: the demo data

    @classmethod
    def from_env(cls) -> Settings:
        """Settings from ``SECRET_KEY``, ``C2C_CACHE_DIR``, ``C2C_UPLOAD_MAX_MB``, ``REDIS_URL``,
        ``DATABASE_URL`` (campaign plans; default: a SQLite file in the cache directory),
        ``C2C_USERS_FILE``, ``C2C_ALLOW_ANONYMOUS``, ``C2C_HTTPS``, ``C2C_PROXIES``,
        ``C2C_RETENTION_HOURS``, ``C2C_PREFETCH`` and ``C2C_DATA``; a wrong ``C2C_CURRENCY``
        (read where amounts are written, core.currency) stops the start too."""
        currency()
        data_file = os.environ.get("C2C_DATA") or None
        users_file = os.environ.get("C2C_USERS_FILE") or None
        return cls(
            secret_key=os.environ.get("SECRET_KEY") or None,
            cache_dir=Path(os.environ.get("C2C_CACHE_DIR", ".cache/c2c")).resolve(),
            upload_max_bytes=int(float(os.environ.get("C2C_UPLOAD_MAX_MB", "50")) * MB),
            redis_url=os.environ.get("REDIS_URL") or None,
            plans_url=os.environ.get("DATABASE_URL") or None,
            users_file=Path(users_file).resolve() if users_file else None,
            allow_anonymous=_flag("C2C_ALLOW_ANONYMOUS"),
            https=_flag("C2C_HTTPS"),
            proxies=_count("C2C_PROXIES"),
            retention_hours=_hours("C2C_RETENTION_HOURS"),
            prefetch=_flag("C2C_PREFETCH", default=True),
            data_file=existing_file("C2C_DATA", data_file) if data_file else None,
        )

    def check_served_on(self, host: str | None) -> None:
        """Refuse to serve other machines without sign-in.

        Parameters
        ----------
        host : str or None
            The address ``c2c serve`` listens on; None under gunicorn, which counts as
            reachable by others (the Procfile binds 0.0.0.0).

        Raises
        ------
        ConfigError
            If the app would be reachable from other machines with no users file and without
            ``C2C_ALLOW_ANONYMOUS=1``.
        """
        if self.users_file or self.allow_anonymous or (host is not None and is_loopback(host)):
            return
        where = f"on {host}" if host is not None else "under gunicorn"
        raise ConfigError(f"refusing to serve {where} without sign-in: set C2C_USERS_FILE "
                          f"(add users with `c2c users add NAME`), or C2C_ALLOW_ANONYMOUS=1 "
                          f"if a proxy in front signs users in")

    def check_production(self) -> None:
        """What gunicorn needs: a shared ``SECRET_KEY`` and sign-in (see check_served_on).

        Raises
        ------
        ConfigError
            If ``SECRET_KEY`` is unset, or nobody would need to sign in.
        """
        if not self.secret_key:
            raise ConfigError("SECRET_KEY is not set: every gunicorn worker (and Celery worker) "
                              "must sign sessions and background jobs with the same key; set it "
                              "to a long random string, e.g. the output of "
                              "python -c 'import secrets; print(secrets.token_hex(32))'")
        self.check_served_on(None)
