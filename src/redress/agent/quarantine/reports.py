"""What operators and hubs are told about quarantines: the list (with when each report reached
its hub) and the body of the over-matching reports."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from redress.agent.outbox.models import Outbox
from redress.agent.outbox.service import OVERMATCHING, sent_times
from redress.agent.quarantine.keys import signal_key
from redress.agent.quarantine.models import QuarantinedSignal


def listed(
    session: Session, *, include_released: bool
) -> list[tuple[QuarantinedSignal, str | None]]:
    """Quarantines, newest first (at most 1,000), each with when its report reached the hub."""
    query = select(QuarantinedSignal).order_by(QuarantinedSignal.id.desc())
    if not include_released:
        query = query.where(QuarantinedSignal.released_at.is_(None))
    rows = list(session.scalars(query.limit(1000)))
    sent = sent_times(session, feedback=OVERMATCHING)
    result = []
    for row in rows:
        reported = sent.get((row.hub, row.signal_type, row.signal_value))
        result.append((row, reported.isoformat() if reported else None))
    return result


def report_request(
    session: Session, *, rows: Sequence[Outbox], threshold: int, window: float
) -> tuple[str, dict[str, Any]]:
    """The hub path and body that deliver these outbox reports."""
    keys = {signal_key(r.hub, r.signal_type, r.signal_value) for r in rows}
    latest = {
        q.signal_key: q
        for q in session.scalars(
            select(QuarantinedSignal)
            .where(QuarantinedSignal.signal_key.in_(keys))
            .order_by(QuarantinedSignal.id)
        )
    }
    reports = []
    for row in rows:
        entry = latest.get(signal_key(row.hub, row.signal_type, row.signal_value))
        reports.append(
            {
                "type": row.signal_type,
                "value": row.signal_value,
                "distinct_uploads": entry.distinct_uploads if entry else threshold + 1,
                "window_seconds": entry.window_seconds if entry else window,
            }
        )
    return "/v1/overmatching", {"reports": reports}
