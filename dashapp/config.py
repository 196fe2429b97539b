"""App settings, read once from environment variables (documented in the README)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

MB = 1024 * 1024


@dataclass(frozen=True)
class Settings:
    """Deployment settings; every gunicorn worker must see the same values.

    Without ``SECRET_KEY``, Dash keeps a generated signing secret in the shared job cache, so
    several workers still agree; set it explicitly in production.
    """

    secret_key: str | None
    cache_dir: Path
    upload_max_bytes: int
    redis_url: str | None
    plans_url: str | None = None  # SQLAlchemy URL; None: plans.db in the cache directory

    @classmethod
    def from_env(cls) -> Settings:
        """Settings from ``SECRET_KEY``, ``C2C_CACHE_DIR``, ``C2C_UPLOAD_MAX_MB``, ``REDIS_URL``,
        ``DATABASE_URL`` (campaign plans; default: a SQLite file in the cache directory)."""
        return cls(
            secret_key=os.environ.get("SECRET_KEY") or None,
            cache_dir=Path(os.environ.get("C2C_CACHE_DIR", ".cache/c2c")).resolve(),
            upload_max_bytes=int(float(os.environ.get("C2C_UPLOAD_MAX_MB", "50")) * MB),
            redis_url=os.environ.get("REDIS_URL") or None,
            plans_url=os.environ.get("DATABASE_URL") or None,
        )
