"""Helpers for plan-store tests: what a database's schema looks like to Alembic, and opening
a store from several processes at once."""

from __future__ import annotations

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from core.plans import PLANS, PlanStore


def schema_state(url: str) -> tuple[str | None, list]:
    """The database's Alembic revision, and how its schema differs from ``PLANS`` (autogenerate)."""
    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            return context.get_current_revision(), compare_metadata(context, PLANS.metadata)
    finally:
        engine.dispose()


def open_at_once(url: str, barrier, results) -> None:
    """In a process of its own: open the plan store when all are ready; report to ``results``."""
    barrier.wait()
    try:
        PlanStore(url).close()
        results.put("ok")
    except Exception as error:  # reported to the test process
        results.put(repr(error))
