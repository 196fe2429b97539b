"""Alembic migrations of the plan database; :class:`core.plans.PlanStore` runs them when opened.

``core.plans.PLANS`` stays the one definition that queries use; every change to it needs a new
revision in ``versions/`` (``down_revision`` = the current head), and
``tests/test_plans.py::test_migrated_schema_matches_the_table_definition`` fails until the
migrated schema matches it again. Alembic can draft the revision from the difference::

    with sqlalchemy.create_engine(url).begin() as connection:
        alembic.command.revision(config(connection), "what changed", autogenerate=True)
"""

from __future__ import annotations

import threading
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Connection

BASELINE = "0001"  # the campaign_plans table, as create_all made it before there were migrations
VERSION_TABLE = "alembic_version"
_ONE_AT_A_TIME = threading.Lock()  # alembic's ``context`` is one per process, not per thread


def config(connection: Connection) -> Config:
    """An Alembic configuration whose commands run on ``connection`` (see ``env.py``)."""
    settings = Config()
    settings.set_main_option("script_location", str(Path(__file__).parent))
    settings.attributes["connection"] = connection
    return settings


def upgrade(connection: Connection) -> None:
    """Bring the database to the newest revision, in the caller's transaction.

    A database created before migrations existed (``campaign_plans`` present, no
    ``alembic_version``) is stamped at :data:`BASELINE` first, so its table is kept, not
    recreated. Threads of a process take turns here; callers serialise processes
    (``PlanStore`` holds a lock on the database).
    """
    settings = config(connection)
    with _ONE_AT_A_TIME:
        tables = set(sa.inspect(connection).get_table_names())
        if "campaign_plans" in tables and VERSION_TABLE not in tables:
            command.stamp(settings, BASELINE)
        command.upgrade(settings, "head")
