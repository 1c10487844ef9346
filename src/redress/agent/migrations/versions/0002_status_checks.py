"""The database refuses a review status or an outbox feedback kind the agent does not know
(CHECK constraints `ck_agent_reviews_status`, `ck_agent_outbox_feedback`).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

REVIEW_STATUSES = "status in ('pending', 'blocked', 'not_blocked')"
FEEDBACK = "feedback in ('PendingReview', 'Blocked', 'NotBlocked', 'Overmatching')"


def upgrade() -> None:
    """Add the two checks (SQLite rebuilds the tables to do it)."""
    with op.batch_alter_table("agent_reviews") as batch:
        batch.create_check_constraint("status", REVIEW_STATUSES)
    with op.batch_alter_table("agent_outbox") as batch:
        batch.create_check_constraint("feedback", FEEDBACK)


def downgrade() -> None:
    """Drop them."""
    with op.batch_alter_table("agent_outbox") as batch:
        batch.drop_constraint(op.f("ck_agent_outbox_feedback"), type_="check")
    with op.batch_alter_table("agent_reviews") as batch:
        batch.drop_constraint(op.f("ck_agent_reviews_status"), type_="check")
