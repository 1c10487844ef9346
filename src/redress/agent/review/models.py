"""The review queue's table."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from redress.agent.models import AgentBase
from redress.db.types import UtcDateTime


class ReviewStatus(StrEnum):
    """Where a held match stands: pending until a moderator decides, then for good."""

    PENDING = "pending"
    BLOCKED = "blocked"
    NOT_BLOCKED = "not_blocked"


class Review(AgentBase):
    """A match held for a moderator."""

    __tablename__ = "agent_reviews"
    __table_args__ = (
        CheckConstraint(
            "status in ({})".format(", ".join(f"'{s.value}'" for s in ReviewStatus)),
            name="status",
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    hub: Mapped[str] = mapped_column(String(64), index=True)
    signal_type: Mapped[str] = mapped_column(String(16))
    signal_value: Mapped[str] = mapped_column(Text)
    item: Mapped[str] = mapped_column(String(64))
    distance: Mapped[int | None] = mapped_column(Integer)
    content_id: Mapped[str | None] = mapped_column(String(200), index=True)
    media_path: Mapped[str | None] = mapped_column(String(500))
    status: Mapped[str] = mapped_column(String(16), index=True, default=ReviewStatus.PENDING)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    decided_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    decided_by: Mapped[str | None] = mapped_column(String(100))
