"""Disputes: a signal that enough platforms reviewed and found not to be NCII (and none
confirmed) is quarantined — taken off the feed, kept for staff review, restorable. The safeguard
against hashes submitted to censor ordinary content.

A platform's agent that saw a signal match abnormally many distinct uploads (and quarantined it
locally, `redress.agent.quarantine`) reports it here; such a report counts like a `NotBlocked`
verdict from that platform towards the same threshold, and the signal is listed for staff in
`redress dispute list` as soon as one platform reports it."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from redress.core.clock import Clock
from redress.hub.bank import service as bank
from redress.hub.bank.service import Signal
from redress.hub.disputes.models import OvermatchReport
from redress.hub.events import record_event
from redress.hub.feedback import service as feedback
from redress.hub.feedback.service import Verdict


def review(session: Session, *, signal_id: int, threshold: int, clock: Clock) -> bool:
    """After a platform's verdict or report on a signal: quarantine it when `threshold`
    platforms dispute it (`NotBlocked`, or an over-matching report) and none confirmed it
    (`Blocked`); whether it became quarantined now. (`redress.hub.ports.DisputeReview`.)"""
    signal = bank.signal_by_id(session, signal_id)
    return signal is not None and _maybe_quarantine(session, signal, threshold, clock)


def _maybe_quarantine(session: Session, signal: Signal, threshold: int, clock: Clock) -> bool:
    if signal.quarantined_at is not None or signal.dispute_cleared:
        return False
    verdicts = feedback.verdicts(session, signal.id)
    if any(value == Verdict.BLOCKED for _, value in verdicts):
        return False
    not_blocked = {participant for participant, value in verdicts if value == Verdict.NOT_BLOCKED}
    overmatching = set(
        session.scalars(
            select(OvermatchReport.participant_id).where(OvermatchReport.signal_id == signal.id)
        )
    )
    if len(not_blocked | overmatching) < threshold:
        return False
    record_event(
        session,
        clock=clock,
        actor="hub",
        action="signal.quarantined",
        subject=f"signal:{signal.id}",
        not_blocked=len(not_blocked),
        overmatching=len(overmatching),
    )
    bank.quarantine(session, signal, clock=clock)
    return True


def record_overmatch(
    session: Session,
    *,
    participant_id: int,
    signal: Signal,
    distinct_uploads: int,
    window_seconds: float,
    dispute_threshold: int,
    clock: Clock,
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
        clock.now(),
    )
    session.flush()
    record_event(
        session,
        clock=clock,
        actor=f"participant:{participant_id}",
        action="signal.overmatch_reported",
        subject=f"signal:{signal.id}",
        distinct_uploads=distinct_uploads,
        window_seconds=window_seconds,
    )
    return _maybe_quarantine(session, signal, dispute_threshold, clock)


def reported_overmatching(session: Session) -> dict[int, tuple[int, int]]:
    """Per signal reported as over-matching: (platforms reporting, largest count reported)."""
    rows = session.execute(select(OvermatchReport.signal_id, OvermatchReport.distinct_uploads))
    reports: dict[int, tuple[int, int]] = {}
    for signal_id, count in rows:
        platforms, largest = reports.get(signal_id, (0, 0))
        reports[signal_id] = (platforms + 1, max(largest, count))
    return reports


def restore_signal(session: Session, signal: Signal, *, actor: str, clock: Clock) -> None:
    """Staff reviewed a quarantined signal and confirm it: back on the feed, not re-disputed."""
    record_event(
        session, clock=clock, actor=actor, action="signal.restored", subject=f"signal:{signal.id}"
    )
    bank.restore(session, signal, clock=clock)


def quarantined(session: Session) -> list[Signal]:
    """Signals waiting for staff review: quarantined, or reported as over-matching by a
    platform (and neither restored by staff nor quarantined yet)."""
    reported = list(session.scalars(select(OvermatchReport.signal_id).distinct()))
    return bank.awaiting_review(session, reported)
