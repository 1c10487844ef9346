"""`/v1/overmatching`: platforms' agents report signals that matched abnormally many distinct
uploads, with an API key carrying `feedback:write` (a report is feedback on a signal)."""

from __future__ import annotations

from fastapi import APIRouter

from redress.hub.bank import service as bank
from redress.hub.context import Hub
from redress.hub.disputes import service as disputes
from redress.hub.disputes.schemas import OvermatchBatch, OvermatchResult
from redress.hub.participants.api import FeedbackKey
from redress.hub.participants.schemas import Scope
from redress.hub.participants.service import authenticate
from redress.web.errors import error_responses

router = APIRouter(prefix="/v1", tags=["platforms"], responses=error_responses(401, 403, 422))


@router.post(
    "/overmatching",
    response_model=OvermatchResult,
    responses=error_responses(413),
)
def overmatching(body: OvermatchBatch, context: Hub, key: FeedbackKey) -> OvermatchResult:
    """Report signals that matched abnormally many distinct uploads on your platform (your
    agent quarantined them locally). Needs `feedback:write`: a report is feedback on a signal.

    Each report is recorded as an event and counts like a `NotBlocked` verdict from your
    platform: staff see the signal in `redress dispute list` at once, and it is quarantined
    (taken off the feed) when enough platforms dispute it. Unknown signals are listed by
    position; the latest report per platform per signal counts.
    """
    unknown: list[int] = []
    quarantined: list[int] = []
    with context.transaction() as session:
        caller = authenticate(session, key, Scope.FEEDBACK_WRITE)
        for index, report in enumerate(body.reports):
            kind, value = bank.normalise(report.type, report.value, f"report {index}")
            signal = bank.find_signal(session, kind, value, published=True)
            if signal is None:
                unknown.append(index)
                continue
            if disputes.record_overmatch(
                session,
                participant_id=caller.participant_id,
                signal=signal,
                distinct_uploads=report.distinct_uploads,
                window_seconds=report.window_seconds,
                dispute_threshold=context.settings.dispute_threshold,
                clock=context.clock,
            ):
                quarantined.append(index)
    return OvermatchResult(
        recorded=len(body.reports) - len(unknown), unknown=unknown, quarantined=quarantined
    )
