"""The append-only event record: every state change, with actor, action, subject and time.

Subjects use internal ids (``case:17``, ``signal:42``), never case numbers, PINs, keys or
contact details, so the record can later be published as a transparency log.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

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
