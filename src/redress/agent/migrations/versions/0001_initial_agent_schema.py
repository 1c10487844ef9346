"""The agent's schema as it was created by the agent itself before it had migrations, plus its
event record (`agent_events`) and its rate-limit counters under an agent's name
(`agent_rate_limit_counters`, so a hub's `rate_limit_counters` can share the database).

A database an earlier agent created for itself already holds some of these tables: they are
adopted as they are (their columns are the same), and only the missing ones are created.

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.Integer()
EVENT_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
MOMENT = sa.DateTime(timezone=True)  # redress.db.types.UtcDateTime underneath


def _tables() -> list[tuple[str, list[sa.Column[Any]], list[str]]]:
    """Each table: its columns and the columns that have their own index."""
    return [
        (
            "agent_events",
            [
                sa.Column("id", EVENT_ID, nullable=False, autoincrement=True),
                sa.Column("at", MOMENT, nullable=False),
                sa.Column("kind", sa.String(60), nullable=False),
                sa.Column("subject", sa.String(120), nullable=False),
                sa.Column("details", sa.Text(), nullable=False),
            ],
            ["at", "kind"],
        ),
        (
            "agent_hub_state",
            [
                sa.Column("hub", sa.String(64), nullable=False),
                sa.Column("cursor", sa.BigInteger(), nullable=False),
                sa.Column("snapshot", sa.String(255), nullable=True),
                sa.Column("updated_at", MOMENT, nullable=False),
            ],
            [],
        ),
        (
            "agent_negative_bank",
            [
                sa.Column("id", ID, nullable=False, autoincrement=True),
                sa.Column("signal_type", sa.String(16), nullable=False),
                sa.Column("signal_value", sa.Text(), nullable=False),
                sa.Column("note", sa.String(500), nullable=True),
                sa.Column("created_at", MOMENT, nullable=False),
            ],
            [],
        ),
        (
            "agent_outbox",
            [
                sa.Column("id", ID, nullable=False, autoincrement=True),
                sa.Column("hub", sa.String(64), nullable=False),
                sa.Column("signal_type", sa.String(16), nullable=False),
                sa.Column("signal_value", sa.Text(), nullable=False),
                sa.Column("feedback", sa.String(16), nullable=False),
                sa.Column("attempts", sa.Integer(), nullable=False),
                sa.Column("next_attempt_at", MOMENT, nullable=False),
                sa.Column("sent_at", MOMENT, nullable=True),
                sa.Column("last_error", sa.String(500), nullable=True),
                sa.Column("created_at", MOMENT, nullable=False),
            ],
            ["hub", "next_attempt_at", "sent_at"],
        ),
        (
            "agent_quarantine",
            [
                sa.Column("id", ID, nullable=False, autoincrement=True),
                sa.Column("signal_key", sa.String(32), nullable=False),
                sa.Column("hub", sa.String(64), nullable=False),
                sa.Column("signal_type", sa.String(16), nullable=False),
                sa.Column("signal_value", sa.Text(), nullable=False),
                sa.Column("distinct_uploads", sa.Integer(), nullable=False),
                sa.Column("threshold", sa.Integer(), nullable=False),
                sa.Column("window_seconds", sa.Float(), nullable=False),
                sa.Column("quarantined_at", MOMENT, nullable=False),
                sa.Column("released_at", MOMENT, nullable=True),
                sa.Column("released_by", sa.String(100), nullable=True),
            ],
            ["released_at", "signal_key"],
        ),
        (
            "agent_quarantine_sightings",
            [
                sa.Column("pair", sa.String(64), nullable=False),
                sa.Column("signal_key", sa.String(32), nullable=False),
                sa.Column("seen_at", MOMENT, nullable=False),
            ],
            ["seen_at", "signal_key"],
        ),
        (
            "agent_rate_limit_counters",
            [
                sa.Column("key", sa.String(255), nullable=False),
                sa.Column("count", sa.Integer(), nullable=False),
                sa.Column("expires_at", sa.Double(), nullable=False),
            ],
            ["expires_at"],
        ),
        (
            "agent_reviews",
            [
                sa.Column("id", ID, nullable=False, autoincrement=True),
                sa.Column("hub", sa.String(64), nullable=False),
                sa.Column("signal_type", sa.String(16), nullable=False),
                sa.Column("signal_value", sa.Text(), nullable=False),
                sa.Column("item", sa.String(64), nullable=False),
                sa.Column("distance", sa.Integer(), nullable=True),
                sa.Column("content_id", sa.String(200), nullable=True),
                sa.Column("media_path", sa.String(500), nullable=True),
                sa.Column("status", sa.String(16), nullable=False),
                sa.Column("created_at", MOMENT, nullable=False),
                sa.Column("decided_at", MOMENT, nullable=True),
                sa.Column("decided_by", sa.String(100), nullable=True),
            ],
            ["content_id", "hub", "status"],
        ),
    ]


def upgrade() -> None:
    """Create the agent's tables that are not there yet."""
    existing = set(sa.inspect(op.get_bind()).get_table_names())
    for name, columns, indexed in _tables():
        if name in existing:
            continue
        key = columns[0].name
        op.create_table(name, *columns, sa.PrimaryKeyConstraint(key, name=op.f(f"pk_{name}")))
        for column in indexed:
            op.create_index(op.f(f"ix_{name}_{column}"), name, [column])


def downgrade() -> None:
    """Drop the agent's tables."""
    for name, _columns, indexed in reversed(_tables()):
        for column in indexed:
            op.drop_index(op.f(f"ix_{name}_{column}"), table_name=name)
        op.drop_table(name)
