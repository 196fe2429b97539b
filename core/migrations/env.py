"""Alembic environment: revisions run on the connection passed in ``config.attributes``."""

from alembic import context

from core.plans import PLANS

context.configure(connection=context.config.attributes["connection"],
                  target_metadata=PLANS.metadata)
with context.begin_transaction():
    context.run_migrations()
