"""The hub's tables. Survivors' credentials (case number, PIN hash) live only on `cases`;
platforms see `items.ref`, an opaque reference, never a case number."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    Double,
    Float,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from redress.db import Base
from redress.db.tables import counters_table

ID = BigInteger().with_variant(Integer(), "sqlite")


class Case(Base):
    """A survivor's case: the credentials and the statement they accepted."""

    __tablename__ = "cases"

    id: Mapped[int] = mapped_column(ID, primary_key=True, autoincrement=True)
    case_number: Mapped[str] = mapped_column(String(32), unique=True)
    pin_hash: Mapped[str] = mapped_column(String(200))
    statement_version: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default="active")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    withdrawn_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    idempotency_key: Mapped[str | None] = mapped_column(String(128), unique=True)
    request_digest: Mapped[str | None] = mapped_column(String(64))
    retry_secret: Mapped[bytes | None] = mapped_column(LargeBinary)
    retry_expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    contact_secret: Mapped[bytes | None] = mapped_column(LargeBinary)

    items: Mapped[list[Item]] = relationship(back_populates="case", order_by="Item.id")


class Item(Base):
    """One image or video: its signals, and whose it is (a case, or a platform that sent it)."""

    __tablename__ = "items"

    id: Mapped[int] = mapped_column(ID, primary_key=True, autoincrement=True)
    ref: Mapped[str] = mapped_column(String(40), unique=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    participant_id: Mapped[int | None] = mapped_column(ForeignKey("participants.id"))
    status: Mapped[str] = mapped_column(String(16), default="active")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    withdrawn_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    case: Mapped[Case | None] = relationship(back_populates="items")
    links: Mapped[list[ItemSignal]] = relationship(back_populates="item", order_by="ItemSignal.id")


class Signal(Base):
    """A distinct hash value in the bank. Active while an active item holds it and it is not
    quarantined; `modified_at` (Unix seconds) orders the StopNCII-compatible export."""

    __tablename__ = "signals"
    __table_args__ = (UniqueConstraint("type", "value"),)

    id: Mapped[int] = mapped_column(ID, primary_key=True, autoincrement=True)
    type: Mapped[str] = mapped_column(String(16))
    value: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="active")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    modified_at: Mapped[int] = mapped_column(BigInteger, index=True)
    quarantined_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    dispute_cleared: Mapped[bool] = mapped_column(Boolean, default=False)


class ItemSignal(Base):
    """That an item holds a signal, with the hash's quality and variant as submitted."""

    __tablename__ = "item_signals"
    __table_args__ = (UniqueConstraint("item_id", "signal_id"),)

    id: Mapped[int] = mapped_column(ID, primary_key=True, autoincrement=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"), index=True)
    signal_id: Mapped[int] = mapped_column(ForeignKey("signals.id"), index=True)
    quality: Mapped[int | None] = mapped_column(Integer)
    variant: Mapped[str | None] = mapped_column(String(32))

    item: Mapped[Item] = relationship(back_populates="links")
    signal: Mapped[Signal] = relationship()


class FeedEntry(Base):
    """One step of the append-only feed: a signal added or removed. `seq` is the cursor."""

    __tablename__ = "feed_entries"

    seq: Mapped[int] = mapped_column(ID, primary_key=True, autoincrement=True)
    op: Mapped[str] = mapped_column(String(8))
    reason: Mapped[str] = mapped_column(String(16))
    signal_id: Mapped[int] = mapped_column(ForeignKey("signals.id"), index=True)
    item_ref: Mapped[str] = mapped_column(String(40))
    variant: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    signal: Mapped[Signal] = relationship()


class Participant(Base):
    """A platform (or other consumer of the feed)."""

    __tablename__ = "participants"

    id: Mapped[int] = mapped_column(ID, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    status: Mapped[str] = mapped_column(String(16), default="active")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ApiKey(Base):
    """An API key: its public prefix for lookup and the SHA-256 of the whole key."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(ID, primary_key=True, autoincrement=True)
    participant_id: Mapped[int] = mapped_column(ForeignKey("participants.id"), index=True)
    prefix: Mapped[str] = mapped_column(String(24), unique=True)
    key_hash: Mapped[str] = mapped_column(String(64))
    scopes: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    participant: Mapped[Participant] = relationship()


class Feedback(Base):
    """A platform's latest verdict on a signal (`PendingReview`, `Blocked`, `NotBlocked`)."""

    __tablename__ = "feedback"
    __table_args__ = (UniqueConstraint("participant_id", "signal_id"),)

    id: Mapped[int] = mapped_column(ID, primary_key=True, autoincrement=True)
    participant_id: Mapped[int] = mapped_column(ForeignKey("participants.id"))
    signal_id: Mapped[int] = mapped_column(ForeignKey("signals.id"), index=True)
    value: Mapped[str] = mapped_column(String(16))
    tags: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    participant: Mapped[Participant] = relationship()


class PinAttempts(Base):
    """PIN-attempt budgets (see `redress.hub.lockout`), keyed by a digest of the case number,
    of the client address, or of both — whether or not such a case exists, so lock-outs reveal
    nothing. Times are Unix seconds."""

    __tablename__ = "pin_attempts"

    key: Mapped[str] = mapped_column(String(80), primary_key=True)
    level: Mapped[float] = mapped_column(Double)
    next_at: Mapped[float] = mapped_column(Double)
    since: Mapped[float] = mapped_column(Double)
    good_until: Mapped[float] = mapped_column(Double)
    expires_at: Mapped[float] = mapped_column(Double, index=True)


class Event(Base):
    """An append-only record of a state change: who did what to what, when."""

    __tablename__ = "events"

    id: Mapped[int] = mapped_column(ID, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    actor: Mapped[str] = mapped_column(String(120))
    action: Mapped[str] = mapped_column(String(60))
    subject: Mapped[str] = mapped_column(String(120))
    details: Mapped[str] = mapped_column(Text, default="{}")


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
    reported_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    participant: Mapped[Participant] = relationship()


class PortalSession(Base):
    """A survivor's sign-in on the portal. The browser's cookie holds a random token; only its
    SHA-256 is stored, so this table cannot be replayed. Ends at `expires_at` (absolute), after
    the idle limit since `last_seen_at`, or when revoked (sign-out, quick exit, withdrawal);
    ended rows are deleted at the next sign-in."""

    __tablename__ = "portal_sessions"

    id: Mapped[int] = mapped_column(ID, primary_key=True, autoincrement=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


PIN_ATTEMPTS = Base.metadata.tables[PinAttempts.__tablename__]
"""The PIN budgets' table (`redress.hub.lockout.SqlBackoffStore`)."""

RATE_LIMIT_COUNTERS = counters_table(Base.metadata)
"""Rate-limit counters shared by every worker (`redress.web.ratelimit.SqlStorage`)."""


class Intake(Base):
    """One case creation or addition of items, kept for the flood safeguards' windows: when,
    how many cases (1 or 0) and signals, and a keyed digest of the client address (never the
    address). Rows older than the longest window are deleted."""

    __tablename__ = "intake"

    id: Mapped[int] = mapped_column(ID, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    source: Mapped[str | None] = mapped_column(String(64), index=True)
    cases: Mapped[int] = mapped_column(Integer, default=0)
    signals: Mapped[int] = mapped_column(Integer, default=0)


class Hold(Base):
    """New signals held back from the feed for staff review, and why (`size`, `source`,
    `volume`). `pending` until released (published) or rejected (never published)."""

    __tablename__ = "holds"

    id: Mapped[int] = mapped_column(ID, primary_key=True, autoincrement=True)
    reason: Mapped[str] = mapped_column(String(16))
    source: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    cases: Mapped[int] = mapped_column(Integer, default=0)
    signals: Mapped[int] = mapped_column(Integer, default=0)


class HoldItem(Base):
    """An item held by a hold (its status is `held` while the hold is pending)."""

    __tablename__ = "hold_items"

    id: Mapped[int] = mapped_column(ID, primary_key=True, autoincrement=True)
    hold_id: Mapped[int] = mapped_column(ForeignKey("holds.id"), index=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"), unique=True)
