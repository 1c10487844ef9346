"""PIN attempts become back-off budgets; rate-limit counters shared by every worker

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25 18:10:00

The old `pin_attempts` rows (failure counts and lock-out ends) are transient and do not map onto
the new budgets, so the table is recreated empty: at worst an attacker's count starts again once.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_table("pin_attempts")
    op.create_table(
        "pin_attempts",
        sa.Column("key", sa.String(length=80), nullable=False),
        sa.Column("level", sa.Double(), nullable=False),
        sa.Column("next_at", sa.Double(), nullable=False),
        sa.Column("since", sa.Double(), nullable=False),
        sa.Column("good_until", sa.Double(), nullable=False),
        sa.Column("expires_at", sa.Double(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_pin_attempts")),
    )
    op.create_index(op.f("ix_pin_attempts_expires_at"), "pin_attempts", ["expires_at"])
    op.create_table(
        "rate_limit_counters",
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("expires_at", sa.Double(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_rate_limit_counters")),
    )
    op.create_index(
        op.f("ix_rate_limit_counters_expires_at"), "rate_limit_counters", ["expires_at"]
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_rate_limit_counters_expires_at"), table_name="rate_limit_counters")
    op.drop_table("rate_limit_counters")
    op.drop_index(op.f("ix_pin_attempts_expires_at"), table_name="pin_attempts")
    op.drop_table("pin_attempts")
    op.create_table(
        "pin_attempts",
        sa.Column("key", sa.String(length=80), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("window_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_pin_attempts")),
    )
