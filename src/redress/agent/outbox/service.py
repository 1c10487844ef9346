"""The feedback outbox: verdicts (`PendingReview`, `Blocked`, `NotBlocked`) and over-matching
reports queued in the transaction that decides them, then delivered to their hub and retried
with back-off (`redress.core.backoff.OUTBOX_WAIT`) until the hub acknowledges them."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from redress.agent.events import EventKind, record_event
from redress.agent.outbox.models import Outbox
from redress.core.backoff import OUTBOX_WAIT, wait_after
from redress.core.clock import Clock

#: A moderator's or a rule's verdict, in StopNCII's vocabulary.
FEEDBACK = ("PendingReview", "Blocked", "NotBlocked")
#: The outbox's kind of an over-matching report (its `feedback` column).
OVERMATCHING = "Overmatching"
#: Rows sent per hub per round.
ROUND = 1000


def enqueue(
    session: Session, *, clock: Clock, hub: str, kind: str, value: str, feedback: str
) -> None:
    """Queue one piece of feedback for `hub`, due at once."""
    moment = clock.now()
    session.add(
        Outbox(
            hub=hub,
            signal_type=kind,
            signal_value=value,
            feedback=feedback,
            attempts=0,
            next_attempt_at=moment,
            created_at=moment,
        )
    )


def due(session: Session, *, clock: Clock, limit: int = ROUND) -> list[Outbox]:
    """Feedback not yet acknowledged whose next attempt is due, oldest first."""
    return list(
        session.scalars(
            select(Outbox)
            .where(Outbox.sent_at.is_(None), Outbox.next_attempt_at <= clock.now())
            .order_by(Outbox.id)
            .limit(limit)
        )
    )


def record_attempt(
    session: Session, *, clock: Clock, hub: str, ids: Sequence[int], error: str | None
) -> int:
    """One delivery attempt of the rows `ids` to `hub`: acknowledged (`error` None) or failed
    (the next attempt pushed back). Returns how many were acknowledged."""
    moment = clock.now()
    acknowledged = 0
    kinds: Counter[str] = Counter()
    for row_id in ids:
        stored = session.get(Outbox, row_id)
        if stored is None:
            continue
        stored.attempts += 1
        kinds[stored.feedback] += 1
        if error is None:
            stored.sent_at = moment
            acknowledged += 1
        else:
            stored.last_error = error
            stored.next_attempt_at = moment + timedelta(
                seconds=wait_after(OUTBOX_WAIT, stored.attempts)
            )
    if kinds:
        record_event(
            session,
            clock=clock,
            kind=EventKind.OUTBOX_DELIVERED if error is None else EventKind.OUTBOX_FAILED,
            subject=f"hub:{hub}",
            count=sum(kinds.values()),
            feedback=dict(kinds),
            **({} if error is None else {"error": error[:200]}),
        )
    return acknowledged


def pending_count(session: Session) -> int:
    """Feedback not yet acknowledged."""
    waiting = session.scalar(
        select(func.count()).select_from(Outbox).where(Outbox.sent_at.is_(None))
    )
    return int(waiting or 0)


def sent_times(session: Session, *, feedback: str) -> dict[tuple[str, str, str], datetime]:
    """When each (hub, type, value)'s feedback of kind `feedback` was acknowledged."""
    sent: dict[tuple[str, str, str], datetime] = {}
    for row in session.scalars(
        select(Outbox).where(Outbox.feedback == feedback, Outbox.sent_at.is_not(None))
    ):
        assert row.sent_at is not None
        sent[(row.hub, row.signal_type, row.signal_value)] = row.sent_at
    return sent


def verdicts_request(rows: Sequence[Outbox]) -> tuple[str, dict[str, Any]]:
    """The hub path and body that deliver these verdicts."""
    return "/v1/feedback", {
        "feedback": [
            {"type": r.signal_type, "value": r.signal_value, "feedback": r.feedback} for r in rows
        ]
    }
