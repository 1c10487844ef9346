"""The participants' tables: platforms (and other consumers of the feed) and their API keys."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from redress.hub.db import ID, Base, UtcDateTime, status_check


class ParticipantState(StrEnum):
    """A participant is `active` until the operator revokes it."""

    ACTIVE = "active"
    REVOKED = "revoked"


class Participant(Base):
    """A platform (or other consumer of the feed)."""

    __tablename__ = "participants"
    __table_args__ = (status_check("status", ParticipantState),)

    id: Mapped[int] = mapped_column(ID, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    status: Mapped[str] = mapped_column(String(16), default=ParticipantState.ACTIVE)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class ApiKey(Base):
    """An API key: its public prefix for lookup and the SHA-256 of the whole key."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(ID, primary_key=True, autoincrement=True)
    participant_id: Mapped[int] = mapped_column(ForeignKey("participants.id"), index=True)
    prefix: Mapped[str] = mapped_column(String(24), unique=True)
    key_hash: Mapped[str] = mapped_column(String(64))
    scopes: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)

    participant: Mapped[Participant] = relationship()
