"""The flood safeguard's tables: the counts it keeps, and the quarantines."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from redress.agent.models import AgentBase
from redress.db.types import UtcDateTime


class Sighting(AgentBase):
    """That a bank signal matched one distinct upload, last seen when: the flood safeguard's
    counts (see `redress.agent.quarantine`). Keys are digests; no hash of an upload is kept."""

    __tablename__ = "agent_quarantine_sightings"

    pair: Mapped[str] = mapped_column(String(64), primary_key=True)
    signal_key: Mapped[str] = mapped_column(String(32), index=True)
    seen_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)


class QuarantinedSignal(AgentBase):
    """A bank signal the agent stopped acting on because it matched too many distinct uploads:
    when, why, and when (and by whom) it was released."""

    __tablename__ = "agent_quarantine"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    signal_key: Mapped[str] = mapped_column(String(32), index=True)
    hub: Mapped[str] = mapped_column(String(64))
    signal_type: Mapped[str] = mapped_column(String(16))
    signal_value: Mapped[str] = mapped_column(Text)
    distinct_uploads: Mapped[int] = mapped_column(Integer)
    threshold: Mapped[int] = mapped_column(Integer)
    window_seconds: Mapped[float] = mapped_column(Float)
    quarantined_at: Mapped[datetime] = mapped_column(UtcDateTime)
    released_at: Mapped[datetime | None] = mapped_column(UtcDateTime, index=True)
    released_by: Mapped[str | None] = mapped_column(String(100))
