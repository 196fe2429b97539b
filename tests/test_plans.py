"""Plan persistence in a real SQLite file: reload, versions per segment, keys, round-trips, URLs,
the migrated schema, and several processes opening and writing one file at once."""

from __future__ import annotations

import logging
import multiprocessing
import re
import sqlite3
import threading
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from core import plans as plans_module
from core.campaign import CampaignPlan
from core.errors import ConfigError
from core.migrations import BASELINE
from core.pipeline import SegmentationConfig
from core.plans import (
    ATTEMPTS,
    BUSY,
    PLAN_FIELDS,
    PLANS,
    UNREACHABLE,
    PlanStore,
    PlanStoreError,
    _upsert,
    default_url,
    normalise_url,
    segmentation_key,
)
from tests.plan_db import open_at_once, schema_state

FORK = multiprocessing.get_context("fork")  # as gunicorn starts its workers

KEY = segmentation_key("data-1", SegmentationConfig(k=4))
T0 = datetime(2025, 1, 1, tzinfo=UTC)


def plan(**changes) -> CampaignPlan:
    values = dict(name="Spring push", segment=1, objective="Reactivate the card",
                  offer="Bonus cashback", channel="Email", cost_per_contact=0.02,
                  response_rate=0.01, value_per_responder=50.0, offer_cost_per_responder=10.0,
                  budget_cap=None, holdout_share=0.1, start=date(2025, 3, 3), duration_days=30,
                  seed=0)
    return CampaignPlan(**(values | changes))


class Clock:
    """A clock that moves one minute on every reading."""

    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        self.now += timedelta(minutes=1)
        return self.now


@pytest.fixture
def url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'nested' / 'plans.db'}"


@pytest.fixture
def store(url) -> Iterator[PlanStore]:
    opened = PlanStore(url, clock=Clock())
    yield opened
    opened.close()


def test_plans_survive_reopening_the_file(url):
    first = PlanStore(url)
    saved = first.save(KEY, plan())
    first.close()
    second = PlanStore(url)
    assert second.plans(KEY) == [saved]
    assert second.latest(KEY, 1) == plan()
    second.close()


def test_several_named_plans_per_segment_newest_first(store):
    b = store.save(KEY, plan(segment=2, name="B"))
    x = store.save(KEY, plan(name="X"))
    y = store.save(KEY, plan(name="Y"))
    x2 = store.save(KEY, plan(name="X", response_rate=0.02))  # X is now the newest of segment 1
    assert [(s.plan.segment, s.plan.name) for s in store.plans(KEY)] == [
        (1, "X"), (1, "Y"), (2, "B")]
    assert store.plans(KEY, 1) == [x2, y]
    assert store.latest(KEY, 1) == plan(name="X", response_rate=0.02)
    assert store.latest(KEY, 2) == b.plan and store.latest(KEY, 3) is None
    assert x.created_at < y.created_at < x2.updated_at


def test_update_in_place_keeps_created_at_and_bumps_updated_at(store):
    first = store.save(KEY, plan())
    second = store.save(KEY, plan(budget_cap=500.0))
    assert second.id == first.id
    assert second.created_at == first.created_at == T0 + timedelta(minutes=1)
    assert second.updated_at == T0 + timedelta(minutes=2)
    assert store.plans(KEY) == [second]


def test_timestamps_are_utc_with_the_real_clock(url):
    opened = PlanStore(url)
    saved = opened.save(KEY, plan())
    (loaded,) = opened.plans(KEY)
    assert loaded.created_at == saved.created_at and loaded.created_at.tzinfo is UTC
    assert abs(datetime.now(UTC) - loaded.updated_at) < timedelta(minutes=1)
    opened.close()


def test_delete(store):
    store.save(KEY, plan(name="keep"))
    store.save(KEY, plan(name="drop"))
    assert store.delete(KEY, 1, "drop") is True
    assert store.delete(KEY, 1, "drop") is False
    assert [s.plan.name for s in store.plans(KEY)] == ["keep"]


def test_keys_isolate_data_sets_and_segmentations(store):
    other_k = segmentation_key("data-1", SegmentationConfig(k=5))
    other_data = segmentation_key("data-2", SegmentationConfig(k=4))
    assert len({KEY, other_k, other_data}) == 3
    assert segmentation_key("data-1", SegmentationConfig(k=4)) == KEY
    assert re.fullmatch(r"[0-9a-f]{64}", KEY)
    store.save(KEY, plan())
    assert store.plans(other_k) == [] and store.plans(other_data) == []


def test_segmentation_key_checks_its_inputs():
    with pytest.raises(ConfigError, match="data_id .* got ''"):
        segmentation_key("", SegmentationConfig())
    with pytest.raises(ConfigError, match="got {'k': 4}"):
        segmentation_key("data-1", {"k": 4})


def test_dates_and_floats_round_trip_exactly(store):
    exact = plan(cost_per_contact=0.1 + 0.2, response_rate=1 / 3, value_per_responder=1e-300,
                 offer_cost_per_responder=123456789.123456789, budget_cap=0.1 + 0.7,
                 holdout_share=0.1 + 0.2 - 0.15, start=date(2024, 2, 29), duration_days=3660,
                 seed=2**63 - 1, name="Ünïcode ✓ " + "x" * 80)
    store.save(KEY, exact)
    loaded = store.latest(KEY, 1)
    for name in PLAN_FIELDS:
        assert getattr(loaded, name) == getattr(exact, name), name
        assert type(getattr(loaded, name)) is type(getattr(exact, name)), name


def test_table_has_one_column_per_plan_field():
    assert set(PLAN_FIELDS) <= set(PLANS.columns.keys())


def test_bad_names_and_keys_are_rejected(store):
    with pytest.raises(ConfigError, match="name must be non-empty text; got ''"):
        plan(name="")
    with pytest.raises(ConfigError, match="at most 100 characters; got 101"):
        plan(name="n" * 101)
    with pytest.raises(ConfigError, match="key must be text"):
        store.save("", plan())
    with pytest.raises(ConfigError, match="must be a CampaignPlan"):
        store.save(KEY, {"name": "x"})


def test_postgres_urls_are_normalised():
    assert (normalise_url("postgres://u:p@db.example:5432/c2c")
            == "postgresql+psycopg://u:p@db.example:5432/c2c")
    assert normalise_url("postgresql://u@h/c2c") == "postgresql+psycopg://u@h/c2c"
    assert normalise_url("postgresql+psycopg2://u@h/c2c") == "postgresql+psycopg2://u@h/c2c"
    assert normalise_url("sqlite:///plans.db") == "sqlite:///plans.db"


def test_default_url_prefers_database_url(monkeypatch, tmp_path):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    assert default_url(tmp_path) == f"sqlite:///{tmp_path / 'plans.db'}"
    monkeypatch.setenv("DATABASE_URL", "")
    assert default_url(tmp_path).startswith("sqlite:///")
    monkeypatch.setenv("DATABASE_URL", "postgres://u:p@h/c2c")
    assert default_url(tmp_path) == "postgresql+psycopg://u:p@h/c2c"


def test_postgres_upsert_compiles_without_a_server():
    sql = str(_upsert("postgresql", KEY, plan(), T0).compile(dialect=postgresql.dialect()))
    assert "ON CONFLICT (key, segment, name) DO UPDATE" in sql
    assert "created_at" not in sql.split("DO UPDATE")[1].split("RETURNING")[0]
    assert sql.rstrip().endswith("RETURNING campaign_plans.id, campaign_plans.created_at")


def test_unusable_urls_fail_clearly_without_leaking_passwords(tmp_path, caplog):
    with pytest.raises(ConfigError, match="SQLite or PostgreSQL") as error:
        PlanStore("mysql://u:secret@h/c2c")
    assert "secret" not in str(error.value)
    with pytest.raises(ConfigError, match="not a database URL"):
        PlanStore("plans.db")
    folder = tmp_path / "folder"
    folder.mkdir()
    with pytest.raises(PlanStoreError) as error:
        PlanStore(f"sqlite:///{folder}")  # a folder, not a file
    assert str(error.value) == UNREACHABLE  # users get a sentence; the log gets the details
    assert "unable to open database file" in caplog.text and str(folder) in caplog.text


def test_migrated_schema_matches_the_table_definition(store, url):
    assert schema_state(url) == (BASELINE, [])
    path = url.removeprefix("sqlite:///")
    assert sqlite3.connect(path).execute("PRAGMA journal_mode").fetchone() == ("wal",)


def test_a_database_from_before_migrations_is_stamped_not_recreated(tmp_path):
    url = f"sqlite:///{tmp_path / 'plans.db'}"
    engine = sa.create_engine(url)
    PLANS.metadata.create_all(engine)  # what PlanStore did before there were migrations
    with engine.begin() as connection:
        connection.execute(_upsert("sqlite", KEY, plan(), T0))
    engine.dispose()
    assert schema_state(url) == (None, [])
    reopened = PlanStore(url)
    assert [saved.plan for saved in reopened.plans(KEY)] == [plan()]
    assert schema_state(url) == (BASELINE, [])
    reopened.close()


def _run_at_once(target, count: int, *args) -> list:
    """``target(*args, barrier, results)`` in ``count`` forked processes released together."""
    barrier, results = FORK.Barrier(count), FORK.Queue()
    processes = [FORK.Process(target=target, args=(*args, barrier, results))
                 for _ in range(count)]
    for process in processes:
        process.start()
    outcomes = [results.get(timeout=240) for _ in processes]
    for process in processes:
        process.join(30)
    return outcomes


@pytest.mark.parametrize("attempt", range(5))  # without the lock, about 1 in 5 collides
def test_six_processes_opening_one_new_file_at_once_all_succeed(url, attempt):
    assert _run_at_once(open_at_once, 6, url) == ["ok"] * 6
    path = url.removeprefix("sqlite:///")
    with sqlite3.connect(path) as connection:
        tables = connection.execute("SELECT name FROM sqlite_master WHERE type = 'table' "
                                    "ORDER BY name").fetchall()
        versions = connection.execute("SELECT version_num FROM alembic_version").fetchall()
    assert tables == [("alembic_version",), ("campaign_plans",)]
    assert versions == [(BASELINE,)]


def test_threads_opening_stores_on_different_files_at_once_all_succeed(tmp_path):
    """Alembic keeps one migration context per process: threads must take turns."""
    barrier, outcomes = threading.Barrier(6), []

    def open_store(number: int) -> None:
        barrier.wait()
        try:
            PlanStore(f"sqlite:///{tmp_path / f'plans-{number}.db'}").close()
            outcomes.append("ok")
        except PlanStoreError as error:
            outcomes.append(repr(error))

    threads = [threading.Thread(target=open_store, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert outcomes == ["ok"] * 6


SAVES = 300


def _save_many(url: str, barrier, results) -> None:
    store = PlanStore(url)
    barrier.wait()
    failures = 0
    for i in range(SAVES):
        try:
            store.save(KEY, plan(name=f"{FORK.current_process().name}-{i % 50}",
                                 segment=i % 5, response_rate=i / SAVES))
            if i % 10 == 0:
                store.plans(KEY, i % 5)
        except PlanStoreError:
            failures += 1
    store.close()
    results.put(failures)


def test_four_processes_saving_300_plans_each_on_one_file_never_fail(url):
    PlanStore(url).close()
    assert _run_at_once(_save_many, 4, url) == [0] * 4
    reopened = PlanStore(url)
    assert len(reopened.plans(KEY)) == 4 * 50  # each process's 50 names, updated in place
    reopened.close()


@pytest.fixture
def quick_retries(monkeypatch):
    """A store that waits 50 ms for a lock, then retries after 10, 20, 40 ms."""
    monkeypatch.setattr(plans_module, "BUSY_TIMEOUT_SECONDS", 0.05)
    monkeypatch.setattr(plans_module, "BACKOFF_SECONDS", 0.01)


def _hold_write_lock(url: str) -> sqlite3.Connection:
    """Another process's writer, mid-transaction."""
    holder = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None,
                             check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")
    return holder


def test_a_locked_file_is_retried_with_backoff(url, quick_retries, caplog):
    opened = PlanStore(url)
    holder = _hold_write_lock(url)
    threading.Timer(0.1, holder.rollback).start()  # the other writer finishes soon
    caplog.set_level(logging.WARNING, logger="core.plans")
    assert opened.save(KEY, plan()).plan == plan()
    assert "is locked (try 1 of 4" in caplog.text
    opened.close()


def test_a_file_locked_for_too_long_fails_with_a_plain_sentence(url, quick_retries, caplog):
    opened = PlanStore(url)
    holder = _hold_write_lock(url)
    started = time.monotonic()
    with pytest.raises(PlanStoreError) as error:
        opened.save(KEY, plan())
    assert time.monotonic() - started < 2
    holder.rollback()
    assert str(error.value) == BUSY
    assert caplog.text.count("is locked (try") == ATTEMPTS - 1
    assert "INSERT INTO campaign_plans" in caplog.text and url.removeprefix("sqlite:///") in \
        caplog.text  # the details are in the server log
    assert opened.save(KEY, plan()).plan == plan()
    opened.close()
