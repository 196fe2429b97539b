"""Campaign plans in a real PostgreSQL server (a throw-away cluster started for these tests):
round trips, the migrated schema, and schema upgrades serialised by an advisory lock."""

from __future__ import annotations

import glob
import multiprocessing
import os
import shutil
import subprocess
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import psycopg
import pytest
import sqlalchemy as sa

from core.campaign import CampaignPlan
from core.migrations import BASELINE
from core.plans import _SCHEMA_LOCK_KEY, PLANS, PlanStore, _upsert, normalise_url
from tests.plan_db import open_at_once, schema_state
from tests.servers import free_port

FORK = multiprocessing.get_context("fork")  # as gunicorn starts its workers
BINDIR = next(iter(sorted(glob.glob("/usr/lib/postgresql/*/bin"))), None)
pytestmark = pytest.mark.skipif(
    BINDIR is None or os.geteuid() != 0 or shutil.which("runuser") is None,
    reason="needs PostgreSQL's server binaries (Debian package postgresql) and root to run "
           "them as the postgres user")


@pytest.fixture(scope="module")
def cluster() -> Iterator[str]:
    """A fresh PostgreSQL cluster on a free local port; its URL without a database name."""
    # under /tmp: the postgres user must reach it, and TMPDIR may be private to root (0700)
    home = Path(tempfile.mkdtemp(prefix="c2c-pg-", dir="/tmp"))
    home.chmod(0o755)
    data = home / "data"
    shutil.chown(home, "postgres")
    port = free_port()

    def as_postgres(*argv: str) -> None:
        subprocess.run(["runuser", "-u", "postgres", "--", *argv], check=True,
                       capture_output=True, timeout=120)

    as_postgres(f"{BINDIR}/initdb", "-D", str(data), "--auth=trust", "--username=c2c")
    as_postgres(f"{BINDIR}/pg_ctl", "-D", str(data), "-w", "-l", str(home / "log"), "-o",
                f"-p {port} -h 127.0.0.1 -k {home}", "start")
    try:
        yield f"postgres://c2c@127.0.0.1:{port}"
    finally:
        as_postgres(f"{BINDIR}/pg_ctl", "-D", str(data), "-m", "fast", "-w", "stop")
        shutil.rmtree(home, ignore_errors=True)


@pytest.fixture
def postgres_url(cluster) -> str:
    """A new, empty database in the cluster; its URL, as DATABASE_URL would give it."""
    name = f"c2c_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(f"{cluster}/postgres", autocommit=True) as connection:
        connection.execute(f"CREATE DATABASE {name}")
    return f"{cluster}/{name}"


def plan(name: str, rate: float = 0.02) -> CampaignPlan:
    return CampaignPlan(name=name, segment=2, objective="Grow installment volume",
                        offer="0 % plan", channel="Email", cost_per_contact=0.02,
                        response_rate=rate, value_per_responder=60.0,
                        offer_cost_per_responder=12.5, budget_cap=None, holdout_share=0.1,
                        start=date(2027, 1, 4), duration_days=30, seed=7)


def test_plans_round_trip_through_postgres(postgres_url):
    first = PlanStore(normalise_url(postgres_url))
    first.save("seg-key", plan("Winter"))
    first.save("seg-key", plan("Spring", rate=0.03))
    updated = first.save("seg-key", plan("Winter", rate=0.05))
    first.close()
    reopened = PlanStore(normalise_url(postgres_url))  # the app restarted
    saved = reopened.plans("seg-key", 2)
    assert [s.plan.name for s in saved] == ["Winter", "Spring"]  # newest first
    assert saved[0].plan == plan("Winter", rate=0.05)
    assert saved[0].created_at < saved[0].updated_at == updated.updated_at
    assert reopened.plans("other-key") == []
    reopened.close()


def test_six_processes_opening_one_new_database_at_once_migrate_it_once(postgres_url):
    url = normalise_url(postgres_url)
    barrier, results = FORK.Barrier(6), FORK.Queue()
    processes = [FORK.Process(target=open_at_once, args=(url, barrier, results))
                 for _ in range(6)]
    for process in processes:
        process.start()
    outcomes = [results.get(timeout=120) for _ in processes]
    for process in processes:
        process.join(30)
    assert outcomes == ["ok"] * 6
    assert schema_state(url) == (BASELINE, [])  # the migrated schema is the table definition


def test_the_upgrade_waits_for_the_advisory_lock(postgres_url):
    url = normalise_url(postgres_url)
    with psycopg.connect(postgres_url, autocommit=True) as holder:
        holder.execute("SELECT pg_advisory_lock(%s)", (_SCHEMA_LOCK_KEY,))  # another upgrade
        opened = []
        opener = threading.Thread(target=lambda: opened.append(PlanStore(url)))
        opener.start()
        time.sleep(1.5)
        waiting = holder.execute("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' "
                                 "AND NOT granted").fetchone()
        assert opener.is_alive() and waiting == (1,)
        assert schema_state(url)[0] is None  # nothing migrated yet
        holder.execute("SELECT pg_advisory_unlock(%s)", (_SCHEMA_LOCK_KEY,))
        opener.join(60)
    assert schema_state(url)[0] == BASELINE
    opened[0].close()


def test_a_database_from_before_migrations_is_stamped_not_recreated(postgres_url):
    url = normalise_url(postgres_url)
    engine = sa.create_engine(url)
    PLANS.metadata.create_all(engine)  # what PlanStore did before there were migrations
    with engine.begin() as connection:
        connection.execute(_upsert("postgresql", "seg-key", plan("Old"),
                                   datetime(2026, 1, 1, tzinfo=UTC)))
    engine.dispose()
    store = PlanStore(url)
    assert [saved.plan for saved in store.plans("seg-key")] == [plan("Old")]
    assert schema_state(url) == (BASELINE, [])
    store.close()
