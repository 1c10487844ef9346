"""The agent's own tables (a database separate from any hub's)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, DateTime, Float, Integer, MetaData, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from redress.db import NAMING


class AgentBase(DeclarativeBase):
    """Base of the agent's tables."""

    metadata = MetaData(naming_convention=NAMING)


class HubState(AgentBase):
    """How far the agent's saved bank of one hub goes."""

    __tablename__ = "agent_hub_state"

    hub: Mapped[str] = mapped_column(String(64), primary_key=True)
    cursor: Mapped[int] = mapped_column(BigInteger, default=0)
    snapshot: Mapped[str | None] = mapped_column(String(255))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Review(AgentBase):
    """A match held for a moderator."""

    __tablename__ = "agent_reviews"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    hub: Mapped[str] = mapped_column(String(64), index=True)
    signal_type: Mapped[str] = mapped_column(String(16))
    signal_value: Mapped[str] = mapped_column(Text)
    item: Mapped[str] = mapped_column(String(64))
    distance: Mapped[int | None] = mapped_column(Integer)
    content_id: Mapped[str | None] = mapped_column(String(200), index=True)
    media_path: Mapped[str | None] = mapped_column(String(500))
    status: Mapped[str] = mapped_column(String(16), index=True, default="pending")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    decided_by: Mapped[str | None] = mapped_column(String(100))


class Outbox(AgentBase):
    """Feedback waiting to reach a hub (retried until the hub acknowledges it)."""

    __tablename__ = "agent_outbox"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    hub: Mapped[str] = mapped_column(String(64), index=True)
    signal_type: Mapped[str] = mapped_column(String(16))
    signal_value: Mapped[str] = mapped_column(Text)
    feedback: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), index=True)
    last_error: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class NegativeSignal(AgentBase):
    """A hash the platform knows to be benign: matches of content that matches it are dropped."""

    __tablename__ = "agent_negative_bank"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    signal_type: Mapped[str] = mapped_column(String(16))
    signal_value: Mapped[str] = mapped_column(Text)
    note: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Sighting(AgentBase):
    """That a bank signal matched one distinct upload, last seen when: the flood safeguard's
    counts (see `redress.agent.quarantine`). Keys are digests; no hash of an upload is kept."""

    __tablename__ = "agent_quarantine_sightings"

    pair: Mapped[str] = mapped_column(String(64), primary_key=True)
    signal_key: Mapped[str] = mapped_column(String(32), index=True)
    seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


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
    quarantined_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    released_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), index=True)
    released_by: Mapped[str | None] = mapped_column(String(100))
