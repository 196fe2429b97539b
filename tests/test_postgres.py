"""Campaign plans in a real PostgreSQL server (a throw-away cluster started for the test)."""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
from datetime import date
from pathlib import Path

import pytest

from core.campaign import CampaignPlan
from core.plans import PlanStore, normalise_url
from tests.servers import free_port

BINDIR = next(iter(sorted(glob.glob("/usr/lib/postgresql/*/bin"))), None)
pytestmark = pytest.mark.skipif(
    BINDIR is None or os.geteuid() != 0 or shutil.which("runuser") is None,
    reason="needs PostgreSQL's server binaries (Debian package postgresql) and root to run "
           "them as the postgres user")


@pytest.fixture
def postgres_url():
    """A fresh PostgreSQL cluster on a free local port; its URL, as DATABASE_URL would give it."""
    home = Path(tempfile.mkdtemp(prefix="c2c-pg-"))
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
        yield f"postgres://c2c@127.0.0.1:{port}/postgres"
    finally:
        as_postgres(f"{BINDIR}/pg_ctl", "-D", str(data), "-m", "fast", "-w", "stop")
        shutil.rmtree(home, ignore_errors=True)


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
