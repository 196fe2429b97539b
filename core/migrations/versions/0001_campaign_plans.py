"""The campaign_plans table, exactly as ``create_all`` made it before there were migrations.

Revision ID: 0001
Revises:
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "campaign_plans",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("segment", sa.Integer, nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
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
        sa.Column("created_at", sa.DateTime, nullable=False),  # UTC, naive (core.plans)
        sa.Column("updated_at", sa.DateTime, nullable=False),
        sa.UniqueConstraint("key", "segment", "name"),
    )


def downgrade() -> None:
    op.drop_table("campaign_plans")
