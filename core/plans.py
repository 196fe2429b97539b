"""Campaign plans saved in a database: a SQLite file by default, PostgreSQL via DATABASE_URL.

Plans are keyed by data set + segmentation settings (:func:`segmentation_key`), so reopening the
same segmentation finds its plans; within a key a plan is identified by segment and name, and
saving the same name again updates it in place. One row per plan, one column per
:class:`~core.campaign.CampaignPlan` field, plus UTC creation and update times.

The schema comes from the Alembic revisions in :mod:`core.migrations`, upgraded once when a
store opens, one process at a time. SQLite files run in WAL mode with a busy timeout, and a
transaction that still finds the file locked is tried again with backoff. Failures reach
callers as :class:`PlanStoreError` with a sentence fit for users; the details (SQL, paths) go
to the ``core.plans`` log.
"""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import json
import logging
import os
import random
import sqlite3
import time
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import sqlalchemy as sa
from alembic.util import CommandError
from filelock import FileLock, Timeout
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Dialect

from core import migrations
from core.campaign import MAX_NAME_LENGTH, CampaignPlan, default_plan
from core.errors import C2CError, ConfigError

if TYPE_CHECKING:
    from core.pipeline import Segmentation

PLANS_FILE = "plans.db"
KEY_LENGTH = 64
_DRIVERS = {"postgres://": "postgresql+psycopg://", "postgresql://": "postgresql+psycopg://"}
_UPSERTS = {"sqlite": sqlite.insert, "postgresql": postgresql.insert}
BUSY_TIMEOUT_SECONDS = 5.0  # SQLite waits this long for another process's write to finish
ATTEMPTS = 4  # tries of a transaction that found SQLite locked even so
BACKOFF_SECONDS = 0.1  # pause before the second try; doubled for each further try, jittered
SCHEMA_LOCK_SECONDS = 60  # longest wait for another process's schema upgrade (< gunicorn timeout)
_SCHEMA_LOCK_KEY = 0x6332_6370_6C61_6E73  # "c2cplans": PostgreSQL advisory lock of upgrades
BUSY = "The plan database is busy; please try again."
UNREACHABLE = "The plan database cannot be reached; please try again later."
UNUPGRADABLE = "The plan database schema cannot be upgraded; the server log has the details."
_LOG = logging.getLogger(__name__)
_T = TypeVar("_T")


class PlanStoreError(C2CError):
    """The plan database cannot be reached, read or written; the message is fit for users."""


class _UTCDateTime(sa.types.TypeDecorator):
    """An aware UTC datetime, stored naive in UTC so SQLite and PostgreSQL agree."""

    impl = sa.DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime, dialect: Dialect) -> datetime:
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime, dialect: Dialect) -> datetime:
        return value.replace(tzinfo=UTC)


_METADATA = sa.MetaData()
PLANS = sa.Table(
    "campaign_plans", _METADATA,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("key", sa.String(KEY_LENGTH), nullable=False),
    sa.Column("segment", sa.Integer, nullable=False),
    sa.Column("name", sa.String(MAX_NAME_LENGTH), nullable=False),
    sa.Column("objective", sa.Text, nullable=False),
    sa.Column("offer", sa.Text, nullable=False),
    sa.Column("channel", sa.Text, nullable=False),
    sa.Column("cost_per_contact", sa.Double, nullable=False),
    sa.Column("response_rate", sa.Double, nullable=False),
    sa.Column("value_per_responder", sa.Double, nullable=False),
    sa.Column("offer_cost_per_responder", sa.Double, nullable=False),
    sa.Column("budget_cap", sa.Double, nullable=True),
    sa.Column("holdout_share", sa.Double, nullable=False),
    sa.Column("start", sa.Date, nullable=False),
    sa.Column("duration_days", sa.Integer, nullable=False),
    sa.Column("seed", sa.BigInteger, nullable=False),
    sa.Column("created_at", _UTCDateTime, nullable=False),
    sa.Column("updated_at", _UTCDateTime, nullable=False),
    sa.UniqueConstraint("key", "segment", "name"),
)
PLAN_FIELDS: tuple[str, ...] = tuple(f.name for f in dataclasses.fields(CampaignPlan))


@dataclass(frozen=True)
class SavedPlan:
    """A plan as stored: the plan, its segmentation key, UTC timestamps and row id."""

    plan: CampaignPlan
    key: str
    created_at: datetime
    updated_at: datetime
    id: int


def normalise_url(url: str) -> str:
    """``postgres://`` and ``postgresql://`` URLs → ``postgresql+psycopg://``; others unchanged."""
    for prefix, replacement in _DRIVERS.items():
        if url.startswith(prefix):
            return replacement + url.removeprefix(prefix)
    return url


def default_url(data_dir: Path) -> str:
    """``DATABASE_URL`` when set (normalised), else a SQLite file ``plans.db`` in ``data_dir``."""
    url = os.environ.get("DATABASE_URL")
    if url:
        return normalise_url(url)
    return f"sqlite:///{(Path(data_dir) / PLANS_FILE).resolve().as_posix()}"


def segmentation_key(data_id: str, config: Any) -> str:
    """A stable key of a data set and the settings that segmented it.

    Parameters
    ----------
    data_id : str
        The data set's content hash (``Segmentation.data_id``).
    config : SegmentationConfig
        The segmentation settings (any dataclass instance).

    Returns
    -------
    str
        64 hex digits: SHA-256 of the id and the settings as sorted JSON. Adding a field to the
        settings changes every key.
    """
    if not isinstance(data_id, str) or not data_id:
        raise ConfigError(f"data_id must be non-empty text; got {data_id!r}")
    if not dataclasses.is_dataclass(config) or isinstance(config, type):
        raise ConfigError(f"config must be a settings dataclass; got {config!r}")
    settings = json.dumps(dataclasses.asdict(config), sort_keys=True)
    return hashlib.sha256(f"{data_id}\n{settings}".encode()).hexdigest()


class PlanStore:
    """Campaign plans in a SQLite or PostgreSQL database; upgrades its schema when opened.

    Parameters
    ----------
    url : str
        SQLAlchemy URL, e.g. ``sqlite:///data/plans.db`` (parent folders are created) or
        ``postgresql+psycopg://user:pass@host/db`` (``postgres://`` is accepted).
    clock : callable, optional
        Returns the current time (aware); defaults to ``datetime.now(UTC)``.

    Raises
    ------
    ConfigError
        If the URL is malformed, its database is not SQLite or PostgreSQL, or its driver is
        not installed.
    PlanStoreError
        If the database cannot be reached, stays busy, or its schema cannot be upgraded.
    """

    def __init__(self, url: str, *, clock: Callable[[], datetime] | None = None) -> None:
        if not isinstance(url, str):
            raise ConfigError(f"url must be text; got {url!r}")
        try:
            parsed = sa.make_url(normalise_url(url))
        except sa.exc.ArgumentError as error:
            scheme = url.partition("://")[0]
            raise ConfigError(f"not a database URL (scheme {scheme!r})") from error
        self.url = parsed.render_as_string(hide_password=True)
        if parsed.get_backend_name() not in _UPSERTS:
            raise ConfigError(f"plans need SQLite or PostgreSQL; got {self.url}")
        is_sqlite = parsed.get_backend_name() == "sqlite"
        schema_lock = None  # PostgreSQL locks inside the upgrade's transaction (_upgrade)
        if is_sqlite and parsed.database not in (None, "", ":memory:"):
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
            # Held until the upgrade has committed: pysqlite runs DDL outside transactions.
            schema_lock = FileLock(f"{parsed.database}.lock", timeout=SCHEMA_LOCK_SECONDS)
        try:
            self._engine = sa.create_engine(
                parsed, connect_args={"timeout": BUSY_TIMEOUT_SECONDS} if is_sqlite else {})
        except (ImportError, sa.exc.NoSuchModuleError) as error:
            raise ConfigError(f"the database driver for {self.url} is not installed "
                              f"({error}); for PostgreSQL install '.[postgres]'") from error
        self._clock = clock or (lambda: datetime.now(UTC))
        self._transaction(_upgrade, schema_lock)

    def close(self) -> None:
        """Close the store's database connections."""
        self._engine.dispose()

    def save(self, key: str, plan: CampaignPlan) -> SavedPlan:
        """Insert ``plan``, or update the plan with the same key, segment and name.

        An update keeps ``created_at`` and sets ``updated_at`` to now; both are UTC.
        """
        key = _checked_key(key)
        if not isinstance(plan, CampaignPlan):
            raise ConfigError(f"plan must be a CampaignPlan; got {plan!r}")
        now = self._clock().astimezone(UTC)
        upsert = _upsert(self._engine.dialect.name, key, plan, now)
        row = self._transaction(lambda connection: connection.execute(upsert).one())
        return SavedPlan(plan=plan, key=key, created_at=row.created_at, updated_at=now,
                         id=row.id)

    def plans(self, key: str, segment: int | None = None) -> list[SavedPlan]:
        """Plans of a segmentation (one segment's, if given): by segment, most recent first."""
        query = sa.select(PLANS).where(PLANS.c.key == _checked_key(key))
        if segment is not None:
            query = query.where(PLANS.c.segment == segment)
        query = query.order_by(PLANS.c.segment, PLANS.c.updated_at.desc(), PLANS.c.id.desc())
        rows = self._transaction(lambda connection: connection.execute(query).all())
        return [SavedPlan(plan=CampaignPlan(**{name: row._mapping[name] for name in PLAN_FIELDS}),
                          key=row.key, created_at=row.created_at, updated_at=row.updated_at,
                          id=row.id)
                for row in rows]

    def latest(self, key: str, segment: int) -> CampaignPlan | None:
        """The most recently saved plan of a segment, or None."""
        saved = self.plans(key, segment)
        return saved[0].plan if saved else None

    def delete(self, key: str, segment: int, name: str) -> bool:
        """Delete a plan; True if it existed."""
        query = sa.delete(PLANS).where(PLANS.c.key == _checked_key(key),
                                       PLANS.c.segment == segment, PLANS.c.name == name.strip())
        return self._transaction(lambda connection: connection.execute(query).rowcount > 0)

    def _transaction(self, work: Callable[[Connection], _T],
                     lock: AbstractContextManager | None = None) -> _T:
        """``work`` in one transaction (inside ``lock``), tried again while SQLite is locked.

        Failures are logged with their details and raised as PlanStoreError with a plain
        sentence: users see neither SQL nor paths nor credentials.
        """
        for attempt in itertools.count(1):
            try:
                with lock or nullcontext(), self._engine.begin() as connection:
                    return work(connection)
            except sa.exc.OperationalError as error:
                locked = _is_locked(error)
                if not locked or attempt == ATTEMPTS:
                    raise self._failure(BUSY if locked else UNREACHABLE, error) from error
                pause = BACKOFF_SECONDS * 2 ** (attempt - 1) * random.uniform(0.5, 1.5)
                _LOG.warning("plan database %s is locked (try %d of %d; again in %.2f s): %s",
                             self.url, attempt, ATTEMPTS, pause, error.orig)
                time.sleep(pause)
            except Timeout as error:
                raise self._failure(BUSY, error) from error
            except CommandError as error:
                raise self._failure(UNUPGRADABLE, error) from error
            except sa.exc.SQLAlchemyError as error:
                raise self._failure(UNREACHABLE, error) from error

    def _failure(self, message: str, error: Exception) -> PlanStoreError:
        """Log ``error`` with its details; the error for callers says only ``message``."""
        _LOG.error("plan database %s: %s", self.url, message, exc_info=error)
        return PlanStoreError(message)


def _upgrade(connection: Connection) -> None:
    """Migrate to the newest schema, one process at a time; SQLite files switch to WAL.

    PostgreSQL: a transaction-level advisory lock on this connection, released by the commit
    that publishes the upgrade (bounded by ``lock_timeout``). SQLite: the caller holds a file
    lock beside the database until the commit; an exclusive SQLite transaction instead would
    mean replacing pysqlite's transaction handling (it runs DDL outside transactions), and the
    switch to WAL cannot run inside a transaction.
    """
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql(f"SET LOCAL lock_timeout = '{SCHEMA_LOCK_SECONDS}s'")
        connection.execute(sa.select(sa.func.pg_advisory_xact_lock(_SCHEMA_LOCK_KEY)))
    else:
        connection.exec_driver_sql("PRAGMA journal_mode=WAL")  # kept by the file
    migrations.upgrade(connection)


def _is_locked(error: sa.exc.DBAPIError) -> bool:
    """Whether SQLite gave up waiting for another connection's lock (SQLITE_BUSY / _LOCKED)."""
    code = getattr(error.orig, "sqlite_errorcode", None)
    return code is not None and code & 0xFF in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)


def _upsert(dialect: str, key: str, plan: CampaignPlan, now: datetime) -> sa.Executable:
    """INSERT ... ON CONFLICT (key, segment, name) DO UPDATE, returning id and created_at."""
    values = {name: getattr(plan, name) for name in PLAN_FIELDS}
    insert = _UPSERTS[dialect](PLANS).values(key=key, created_at=now, updated_at=now, **values)
    return insert.on_conflict_do_update(
        index_elements=["key", "segment", "name"], set_={"updated_at": now, **values},
    ).returning(PLANS.c.id, PLANS.c.created_at)


def _checked_key(key: object) -> str:
    if not isinstance(key, str) or not 0 < len(key) <= KEY_LENGTH:
        raise ConfigError(f"key must be text of 1 to {KEY_LENGTH} characters "
                          f"(see segmentation_key); got {key!r}")
    return key


def current_plans(store: PlanStore, segmentation: Segmentation,
                  key: str | None = None) -> dict[int, CampaignPlan]:
    """The latest saved plan of every segment, or its default plan when none was saved.

    ``key`` is where the plans are saved; default: :func:`segmentation_key` of the
    segmentation's data set and settings.
    """
    key = key or segmentation_key(segmentation.data_id, segmentation.config)
    return {profile.segment: store.latest(key, profile.segment) or default_plan(profile)
            for profile in segmentation.profiles}
