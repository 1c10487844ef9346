"""The feedback outbox's table."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from redress.agent.models import AgentBase
from redress.db.types import UtcDateTime


class Outbox(AgentBase):
    """Feedback waiting to reach a hub (retried until the hub acknowledges it)."""

    __tablename__ = "agent_outbox"
    __table_args__ = (
        CheckConstraint(
            "feedback in ('PendingReview', 'Blocked', 'NotBlocked', 'Overmatching')",
            name="feedback",
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    hub: Mapped[str] = mapped_column(String(64), index=True)
    signal_type: Mapped[str] = mapped_column(String(16))
    signal_value: Mapped[str] = mapped_column(Text)
    feedback: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime, index=True)
    last_error: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
