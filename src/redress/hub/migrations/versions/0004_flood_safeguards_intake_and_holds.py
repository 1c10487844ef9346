"""flood safeguards: intake record and holds

Revision ID: 0004
Revises: 0002
Create Date: 2026-11-25 18:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "intake",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("source", sa.String(length=64), nullable=True),
        sa.Column("cases", sa.Integer(), nullable=False),
        sa.Column("signals", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_intake")),
    )
    op.create_index(op.f("ix_intake_at"), "intake", ["at"], unique=False)
    op.create_index(op.f("ix_intake_source"), "intake", ["source"], unique=False)
    op.create_table(
        "holds",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("reason", sa.String(length=16), nullable=False),
        sa.Column("source", sa.String(length=64), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cases", sa.Integer(), nullable=False),
        sa.Column("signals", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_holds")),
    )
    op.create_index(op.f("ix_holds_status"), "holds", ["status"], unique=False)
    op.create_table(
        "hold_items",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("hold_id", ID, nullable=False),
        sa.Column("item_id", ID, nullable=False),
        sa.ForeignKeyConstraint(
            ["hold_id"], ["holds.id"], name=op.f("fk_hold_items_hold_id_holds")
        ),
        sa.ForeignKeyConstraint(
            ["item_id"], ["items.id"], name=op.f("fk_hold_items_item_id_items")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hold_items")),
        sa.UniqueConstraint("item_id", name=op.f("uq_hold_items_item_id")),
    )
    op.create_index(op.f("ix_hold_items_hold_id"), "hold_items", ["hold_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_hold_items_hold_id"), table_name="hold_items")
    op.drop_table("hold_items")
    op.drop_index(op.f("ix_holds_status"), table_name="holds")
    op.drop_table("holds")
    op.drop_index(op.f("ix_intake_source"), table_name="intake")
    op.drop_index(op.f("ix_intake_at"), table_name="intake")
    op.drop_table("intake")
