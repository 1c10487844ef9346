"""Platforms' feedback on signals, and disputes: a signal that enough platforms reviewed and
found not to be NCII (and none confirmed) is quarantined — taken off the feed, kept for staff
review, restorable. The safeguard against hashes submitted to censor ordinary content."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from redress.hub.bank import refresh_signal, touch
from redress.hub.events import now, record_event
from redress.hub.models import Feedback, Item, ItemSignal, Signal


def record_feedback(
    session: Session,
    *,
    participant_id: int,
    signal: Signal,
    value: str,
    tags: Sequence[str],
    dispute_threshold: int,
) -> bool:
    """Store the platform's latest verdict; returns True if the signal became disputed."""
    row = session.scalar(
        select(Feedback).where(
            Feedback.participant_id == participant_id, Feedback.signal_id == signal.id
        )
    )
    cleaned = ",".join(sorted({t.strip()[:64] for t in tags if t.strip()}))
    if row is None:
        row = Feedback(participant_id=participant_id, signal_id=signal.id)
        session.add(row)
    row.value, row.tags, row.updated_at = value, cleaned, now()
    touch(signal)
    session.flush()
    record_event(
        session,
        actor=f"participant:{participant_id}",
        action="feedback.recorded",
        subject=f"signal:{signal.id}",
        value=value,
    )
    return _maybe_quarantine(session, signal, dispute_threshold)


def _maybe_quarantine(session: Session, signal: Signal, threshold: int) -> bool:
    if signal.quarantined_at is not None or signal.dispute_cleared:
        return False
    values = list(session.scalars(select(Feedback.value).where(Feedback.signal_id == signal.id)))
    if "Blocked" in values or values.count("NotBlocked") < threshold:
        return False
    signal.quarantined_at = now()
    record_event(
        session,
        actor="hub",
        action="signal.quarantined",
        subject=f"signal:{signal.id}",
        not_blocked=values.count("NotBlocked"),
    )
    refresh_signal(session, signal, _any_item_ref(session, signal), reason="quarantine")
    return True


def restore_signal(session: Session, signal: Signal, *, actor: str) -> None:
    """Staff reviewed a quarantined signal and confirm it: back on the feed, not re-disputed."""
    signal.quarantined_at = None
    signal.dispute_cleared = True
    record_event(session, actor=actor, action="signal.restored", subject=f"signal:{signal.id}")
    refresh_signal(session, signal, _any_item_ref(session, signal), reason="restored")


def quarantined(session: Session) -> list[Signal]:
    """Signals waiting for staff review."""
    return list(
        session.scalars(
            select(Signal).where(Signal.quarantined_at.is_not(None)).order_by(Signal.id)
        )
    )


def _any_item_ref(session: Session, signal: Signal) -> str:
    ref = session.scalar(
        select(Item.ref)
        .join(ItemSignal, ItemSignal.item_id == Item.id)
        .where(ItemSignal.signal_id == signal.id)
        .order_by(Item.status, Item.id)
        .limit(1)
    )
    return ref or ""
