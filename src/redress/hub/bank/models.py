"""The bank's tables: distinct signals, the items that hold them, the append-only feed, and the
holds that keep new items off the feed for staff review. Platforms see `items.ref`, an opaque
reference, never a case number."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from redress.hub.db import ID, Base, UtcDateTime, status_check


class ItemState(StrEnum):
    """An item's life: `held` (off the feed, staff review), `active` (its signals on the feed),
    `withdrawn` (by its owner), `rejected` (a held item staff refused; never on the feed)."""

    ACTIVE = "active"
    HELD = "held"
    WITHDRAWN = "withdrawn"
    REJECTED = "rejected"


class SignalState(StrEnum):
    """A signal's place on the feed: `unpublished` (no platform has seen it), `active` (on the
    feed), `withdrawn` (no active item holds it), `quarantined` (disputed, off the feed)."""

    UNPUBLISHED = "unpublished"
    ACTIVE = "active"
    WITHDRAWN = "withdrawn"
    QUARANTINED = "quarantined"


class HoldState(StrEnum):
    """A hold waits (`pending`) until staff release or reject it."""

    PENDING = "pending"
    RELEASED = "released"
    REJECTED = "rejected"


class Item(Base):
    """One image or video: its signals, and whose it is (a case, or a platform that sent it)."""

    __tablename__ = "items"
    __table_args__ = (status_check("status", ItemState),)

    id: Mapped[int] = mapped_column(ID, primary_key=True, autoincrement=True)
    ref: Mapped[str] = mapped_column(String(40), unique=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    participant_id: Mapped[int | None] = mapped_column(ForeignKey("participants.id"))
    status: Mapped[str] = mapped_column(String(16), default=ItemState.ACTIVE)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    withdrawn_at: Mapped[datetime | None] = mapped_column(UtcDateTime)

    links: Mapped[list[ItemSignal]] = relationship(back_populates="item", order_by="ItemSignal.id")


class Signal(Base):
    """A distinct hash value in the bank. Active while an active item holds it and it is not
    quarantined; `modified_at` (Unix seconds) orders the StopNCII-compatible export."""

    __tablename__ = "signals"
    __table_args__ = (UniqueConstraint("type", "value"), status_check("status", SignalState))

    id: Mapped[int] = mapped_column(ID, primary_key=True, autoincrement=True)
    type: Mapped[str] = mapped_column(String(16))
    value: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default=SignalState.ACTIVE)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    modified_at: Mapped[int] = mapped_column(BigInteger, index=True)
    quarantined_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
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
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)

    signal: Mapped[Signal] = relationship()


class Hold(Base):
    """New signals held back from the feed for staff review, and why (`size`, `source`,
    `volume`). `pending` until released (published) or rejected (never published)."""

    __tablename__ = "holds"
    __table_args__ = (status_check("status", HoldState),)

    id: Mapped[int] = mapped_column(ID, primary_key=True, autoincrement=True)
    reason: Mapped[str] = mapped_column(String(16))
    source: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default=HoldState.PENDING, index=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
    decided_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    cases: Mapped[int] = mapped_column(Integer, default=0)
    signals: Mapped[int] = mapped_column(Integer, default=0)


class HoldItem(Base):
    """An item held by a hold (its status is `held` while the hold is pending)."""

    __tablename__ = "hold_items"

    id: Mapped[int] = mapped_column(ID, primary_key=True, autoincrement=True)
    hold_id: Mapped[int] = mapped_column(ForeignKey("holds.id"), index=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"), unique=True)
