"""Platforms' verdicts on signals: the latest per platform per signal, and what the other
domains read of them (a case's outcomes, disputes, the StopNCII export)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from redress.core.clock import Clock
from redress.hub.bank import service as bank
from redress.hub.bank.service import Signal
from redress.hub.events import record_event
from redress.hub.feedback.models import Feedback, Verdict

__all__ = ["Verdict", "feedback_of", "record_feedback", "verdicts", "verdicts_on"]


def record_feedback(
    session: Session,
    *,
    participant_id: int,
    signal: Signal,
    value: str,
    tags: Sequence[str],
    clock: Clock,
) -> None:
    """Store the platform's latest verdict on `signal` (disputes then decide whether it stays
    on the feed: `redress.hub.disputes.service.review`)."""
    row = session.scalar(
        select(Feedback).where(
            Feedback.participant_id == participant_id, Feedback.signal_id == signal.id
        )
    )
    cleaned = ",".join(sorted({t.strip()[:64] for t in tags if t.strip()}))
    if row is None:
        row = Feedback(participant_id=participant_id, signal_id=signal.id)
        session.add(row)
    row.value, row.tags, row.updated_at = Verdict(value), cleaned, clock.now()
    bank.touch(signal, clock=clock)
    session.flush()
    record_event(
        session,
        clock=clock,
        actor=f"participant:{participant_id}",
        action="feedback.recorded",
        subject=f"signal:{signal.id}",
        value=value,
    )


def verdicts(session: Session, signal_id: int) -> list[tuple[int, str]]:
    """(participant id, verdict) of every platform's latest verdict on the signal."""
    rows = session.execute(
        select(Feedback.participant_id, Feedback.value).where(Feedback.signal_id == signal_id)
    )
    return [(participant_id, value) for participant_id, value in rows]


def verdicts_on(session: Session, signal_ids: Sequence[int]) -> list[tuple[int, int, str]]:
    """(signal id, participant id, verdict) for these signals, in one statement."""
    if not signal_ids:
        return []
    rows = session.execute(
        select(Feedback.signal_id, Feedback.participant_id, Feedback.value).where(
            bank.one_of(session, Feedback.signal_id, sorted(set(signal_ids)))
        )
    )
    return [(signal_id, participant_id, value) for signal_id, participant_id, value in rows]


def feedback_of(session: Session, signal_ids: Sequence[int]) -> dict[int, list[Feedback]]:
    """Per signal, its feedback rows in the order they were first given."""
    found: dict[int, list[Feedback]] = {signal_id: [] for signal_id in signal_ids}
    if not signal_ids:
        return found
    rows = session.scalars(
        select(Feedback)
        .where(bank.one_of(session, Feedback.signal_id, list(signal_ids)))
        .order_by(Feedback.id)
    )
    for row in rows:
        found[row.signal_id].append(row)
    return found
