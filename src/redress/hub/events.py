"""The append-only event record: every state change, with actor, action, subject and time.

Subjects use internal ids (``case:17``, ``signal:42``), never case numbers, PINs, keys or
contact details, so the record can later be published as a transparency log.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Table, insert
from sqlalchemy.orm import Session

from redress.hub.models import Event


def now() -> datetime:
    """The current time, timezone-aware (UTC)."""
    return datetime.now(UTC)


def record_event(
    session: Session, *, actor: str, action: str, subject: str, **details: Any
) -> Event:
    """Append one event to the session's transaction."""
    event = Event(
        at=now(),
        actor=actor,
        action=action,
        subject=subject,
        details=json.dumps(details, sort_keys=True, default=str),
    )
    session.add(event)
    return event


def record_events(
    session: Session, *, actor: str, action: str, subjects: list[str], **details: Any
) -> None:
    """Append one event per subject in a single statement (for bulk changes)."""
    if not subjects:
        return
    session.flush()  # keep the record in order with events added before
    moment = now()
    text = json.dumps(details, sort_keys=True, default=str)
    table: Table = Event.__table__  # type: ignore[assignment]
    session.execute(
        insert(table),
        [
            {"at": moment, "actor": actor, "action": action, "subject": s, "details": text}
            for s in subjects
        ],
    )
