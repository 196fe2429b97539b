"""Alembic revisions of the plan database, oldest first by ``down_revision``."""
