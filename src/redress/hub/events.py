"""The append-only event record: every state change, with actor, action, subject and time.

Subjects use internal ids (``case:17``, ``signal:42``), never case numbers, PINs, keys or
contact details, so the record can later be published as a transparency log. The time comes
from the caller's clock.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import String, Table, Text, insert
from sqlalchemy.orm import Mapped, Session, mapped_column

from redress.core.clock import Clock
from redress.hub.db import ID, Base, UtcDateTime


class Event(Base):
    """An append-only record of a state change: who did what to what, when."""

    __tablename__ = "events"

    id: Mapped[int] = mapped_column(ID, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    actor: Mapped[str] = mapped_column(String(120))
    action: Mapped[str] = mapped_column(String(60))
    subject: Mapped[str] = mapped_column(String(120))
    details: Mapped[str] = mapped_column(Text, default="{}")


def record_event(
    session: Session, *, clock: Clock, actor: str, action: str, subject: str, **details: Any
) -> Event:
    """Append one event to the session's transaction."""
    event = Event(
        at=clock.now(),
        actor=actor,
        action=action,
        subject=subject,
        details=json.dumps(details, sort_keys=True, default=str),
    )
    session.add(event)
    return event


def record_events(
    session: Session,
    *,
    clock: Clock,
    actor: str,
    action: str,
    subjects: list[str],
    **details: Any,
) -> None:
    """Append one event per subject in a single statement (for bulk changes)."""
    if not subjects:
        return
    session.flush()  # keep the record in order with events added before
    moment = clock.now()
    text = json.dumps(details, sort_keys=True, default=str)
    table: Table = Event.__table__  # type: ignore[assignment]
    session.execute(
        insert(table),
        [
            {"at": moment, "actor": actor, "action": action, "subject": s, "details": text}
            for s in subjects
        ],
    )
