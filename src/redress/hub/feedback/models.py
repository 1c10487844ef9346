"""The feedback table: each platform's latest verdict on each signal."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from redress.hub.db import ID, Base, UtcDateTime, status_check


class Verdict(StrEnum):
    """StopNCII's vocabulary: matched and under review, confirmed and removed, or not NCII."""

    PENDING_REVIEW = "PendingReview"
    BLOCKED = "Blocked"
    NOT_BLOCKED = "NotBlocked"


class Feedback(Base):
    """A platform's latest verdict on a signal (`PendingReview`, `Blocked`, `NotBlocked`)."""

    __tablename__ = "feedback"
    __table_args__ = (
        UniqueConstraint("participant_id", "signal_id"),
        status_check("value", Verdict),
    )

    id: Mapped[int] = mapped_column(ID, primary_key=True, autoincrement=True)
    participant_id: Mapped[int] = mapped_column(ForeignKey("participants.id"))
    signal_id: Mapped[int] = mapped_column(ForeignKey("signals.id"), index=True)
    value: Mapped[str] = mapped_column(String(16))
    tags: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
