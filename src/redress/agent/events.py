"""Recording the agent's state changes: one `AgentEvent` row per change, added to the
transaction that makes the change (so the record and the state never disagree)."""

from __future__ import annotations

import json
from enum import StrEnum
from typing import Any

from sqlalchemy.orm import Session

from redress.agent.models import AgentEvent
from redress.core.clock import Clock


class EventKind(StrEnum):
    """What happened."""

    REVIEW_CREATED = "review.created"
    REVIEW_DECIDED = "review.decided"
    OUTBOX_DELIVERED = "outbox.delivered"
    OUTBOX_FAILED = "outbox.failed"
    NEGATIVE_ADDED = "negative.added"
    NEGATIVE_REMOVED = "negative.removed"
    QUARANTINE_ON = "quarantine.on"
    QUARANTINE_OFF = "quarantine.off"
    SYNC_APPLIED = "sync.applied"
    MODERATOR_SIGNED_IN = "moderator.signed_in"
    MODERATOR_SIGNED_OUT = "moderator.signed_out"


def record_event(
    session: Session, *, clock: Clock, kind: EventKind, subject: str, **details: Any
) -> AgentEvent:
    """Append one event to the session's transaction. `details` must hold no hash, file name,
    token or other personal data: counts, types and internal ids only."""
    event = AgentEvent(
        at=clock.now(),
        kind=kind.value,
        subject=subject[:120],
        details=json.dumps(details, sort_keys=True, default=str),
    )
    session.add(event)
    return event
