"""The disputes' table: platforms' reports that a signal matched abnormally many uploads. (A
quarantined signal's state is the bank's: `signals.quarantined_at`, `dispute_cleared`.)"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, ForeignKey, Integer, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from redress.hub.db import ID, Base, UtcDateTime


class OvermatchReport(Base):
    """A platform's report that a signal matched abnormally many distinct uploads there (its
    agent quarantined it locally); the latest per platform per signal. Counts as a dispute."""

    __tablename__ = "overmatch_reports"
    __table_args__ = (UniqueConstraint("participant_id", "signal_id"),)

    id: Mapped[int] = mapped_column(ID, primary_key=True, autoincrement=True)
    participant_id: Mapped[int] = mapped_column(ForeignKey("participants.id"))
    signal_id: Mapped[int] = mapped_column(ForeignKey("signals.id"), index=True)
    distinct_uploads: Mapped[int] = mapped_column(Integer)
    window_seconds: Mapped[float] = mapped_column(Float)
    reported_at: Mapped[datetime] = mapped_column(UtcDateTime)
