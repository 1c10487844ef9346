"""The cases' tables: survivors' credentials (case number, PIN hash) live only on `cases`; PIN
budgets, portal sign-ins and the intake record for the flood safeguards beside them."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from sqlalchemy import Double, ForeignKey, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from redress.hub.db import ID, Base, UtcDateTime, status_check

if TYPE_CHECKING:
    from redress.hub.bank.models import Item


class CaseState(StrEnum):
    """A case is `active` until its survivor withdraws it."""

    ACTIVE = "active"
    WITHDRAWN = "withdrawn"


class Case(Base):
    """A survivor's case: the credentials and the statement they accepted."""

    __tablename__ = "cases"
    __table_args__ = (status_check("status", CaseState),)

    id: Mapped[int] = mapped_column(ID, primary_key=True, autoincrement=True)
    case_number: Mapped[str] = mapped_column(String(32), unique=True)
    pin_hash: Mapped[str] = mapped_column(String(200))
    statement_version: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default=CaseState.ACTIVE)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    withdrawn_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    idempotency_key: Mapped[str | None] = mapped_column(String(128), unique=True)
    request_digest: Mapped[str | None] = mapped_column(String(64))
    retry_secret: Mapped[bytes | None] = mapped_column(LargeBinary)
    retry_expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    contact_secret: Mapped[bytes | None] = mapped_column(LargeBinary)

    #: The case's items, read-only (the bank writes them; services ask `bank.service`).
    items: Mapped[list[Item]] = relationship("Item", order_by="Item.id", viewonly=True)


class PinAttempts(Base):
    """PIN-attempt budgets (see `redress.hub.cases.lockout`), keyed by a digest of the case
    number, of the client address, or of both — whether or not such a case exists, so lock-outs
    reveal nothing. Times are Unix seconds."""

    __tablename__ = "pin_attempts"

    key: Mapped[str] = mapped_column(String(80), primary_key=True)
    level: Mapped[float] = mapped_column(Double)
    next_at: Mapped[float] = mapped_column(Double)
    since: Mapped[float] = mapped_column(Double)
    good_until: Mapped[float] = mapped_column(Double)
    expires_at: Mapped[float] = mapped_column(Double, index=True)


PIN_ATTEMPTS = Base.metadata.tables[PinAttempts.__tablename__]
"""The PIN budgets' table (`redress.hub.cases.lockout.SqlBackoffStore`)."""


class PortalSession(Base):
    """A survivor's sign-in on the portal. The browser's cookie holds a random token; only its
    SHA-256 is stored, so this table cannot be replayed. Ends at `expires_at` (absolute), after
    the idle limit since `last_seen_at`, or when revoked (sign-out, quick exit, withdrawal);
    ended rows are deleted at the next sign-in."""

    __tablename__ = "portal_sessions"

    id: Mapped[int] = mapped_column(ID, primary_key=True, autoincrement=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    last_seen_at: Mapped[datetime] = mapped_column(UtcDateTime)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class Intake(Base):
    """One case creation or addition of items, kept for the flood safeguards' windows: when,
    how many cases (1 or 0) and signals, and a keyed digest of the client address (never the
    address). Rows older than the longest window are deleted."""

    __tablename__ = "intake"

    id: Mapped[int] = mapped_column(ID, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    source: Mapped[str | None] = mapped_column(String(64), index=True)
    cases: Mapped[int] = mapped_column(Integer, default=0)
    signals: Mapped[int] = mapped_column(Integer, default=0)
