"""Platforms' feedback on signals, and disputes: a signal that enough platforms reviewed and
found not to be NCII (and none confirmed) is quarantined — taken off the feed, kept for staff
review, restorable. The safeguard against hashes submitted to censor ordinary content.

A platform's agent that saw a signal match abnormally many distinct uploads (and quarantined it
locally, `redress.agent.quarantine`) reports it here; such a report counts like a `NotBlocked`
verdict from that platform towards the same threshold, and the signal is listed for staff in
`redress dispute list` as soon as one platform reports it."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from redress.hub.bank import refresh_signal, touch
from redress.hub.events import now, record_event
from redress.hub.models import Feedback, Item, ItemSignal, OvermatchReport, Signal


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
    verdicts = list(
        session.execute(
            select(Feedback.participant_id, Feedback.value).where(Feedback.signal_id == signal.id)
        )
    )
    if any(value == "Blocked" for _, value in verdicts):
        return False
    not_blocked = {participant for participant, value in verdicts if value == "NotBlocked"}
    overmatching = set(
        session.scalars(
            select(OvermatchReport.participant_id).where(OvermatchReport.signal_id == signal.id)
        )
    )
    if len(not_blocked | overmatching) < threshold:
        return False
    signal.quarantined_at = now()
    record_event(
        session,
        actor="hub",
        action="signal.quarantined",
        subject=f"signal:{signal.id}",
        not_blocked=len(not_blocked),
        overmatching=len(overmatching),
    )
    refresh_signal(session, signal, _any_item_ref(session, signal), reason="quarantine")
    return True


def record_overmatch(
    session: Session,
    *,
    participant_id: int,
    signal: Signal,
    distinct_uploads: int,
    window_seconds: float,
    dispute_threshold: int,
) -> bool:
    """Store a platform's report that `signal` matched too many distinct uploads; returns True
    if the signal became quarantined."""
    row = session.scalar(
        select(OvermatchReport).where(
            OvermatchReport.participant_id == participant_id,
            OvermatchReport.signal_id == signal.id,
        )
    )
    if row is None:
        row = OvermatchReport(participant_id=participant_id, signal_id=signal.id)
        session.add(row)
    row.distinct_uploads, row.window_seconds, row.reported_at = (
        distinct_uploads,
        window_seconds,
        now(),
    )
    session.flush()
    record_event(
        session,
        actor=f"participant:{participant_id}",
        action="signal.overmatch_reported",
        subject=f"signal:{signal.id}",
        distinct_uploads=distinct_uploads,
        window_seconds=window_seconds,
    )
    return _maybe_quarantine(session, signal, dispute_threshold)


def reported_overmatching(session: Session) -> dict[int, tuple[int, int]]:
    """Per signal reported as over-matching: (platforms reporting, largest count reported)."""
    rows = session.execute(select(OvermatchReport.signal_id, OvermatchReport.distinct_uploads))
    reports: dict[int, tuple[int, int]] = {}
    for signal_id, count in rows:
        platforms, largest = reports.get(signal_id, (0, 0))
        reports[signal_id] = (platforms + 1, max(largest, count))
    return reports


def restore_signal(session: Session, signal: Signal, *, actor: str) -> None:
    """Staff reviewed a quarantined signal and confirm it: back on the feed, not re-disputed."""
    signal.quarantined_at = None
    signal.dispute_cleared = True
    record_event(session, actor=actor, action="signal.restored", subject=f"signal:{signal.id}")
    refresh_signal(session, signal, _any_item_ref(session, signal), reason="restored")


def quarantined(session: Session) -> list[Signal]:
    """Signals waiting for staff review: quarantined, or reported as over-matching by a
    platform (and neither restored by staff nor quarantined yet)."""
    reported = select(OvermatchReport.signal_id)
    return list(
        session.scalars(
            select(Signal)
            .where(
                Signal.quarantined_at.is_not(None)
                | (Signal.id.in_(reported) & Signal.dispute_cleared.is_(False))
            )
            .order_by(Signal.id)
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
