"""`/v1/feedback`: platforms' verdicts on signals, with an API key carrying `feedback:write`."""

from __future__ import annotations

from fastapi import APIRouter

from redress.hub.bank import service as bank
from redress.hub.context import Hub
from redress.hub.feedback import service
from redress.hub.feedback.schemas import FeedbackBatch, FeedbackResult
from redress.hub.participants.api import FeedbackKey
from redress.hub.participants.schemas import Scope
from redress.hub.participants.service import authenticate
from redress.web.errors import error_responses

router = APIRouter(prefix="/v1", tags=["platforms"], responses=error_responses(401, 403, 422))


@router.post("/feedback", response_model=FeedbackResult, responses=error_responses(413))
def feedback(body: FeedbackBatch, context: Hub, key: FeedbackKey) -> FeedbackResult:
    """Per signal: `PendingReview` (matched), `Blocked` (confirmed, removed) or `NotBlocked`.

    The latest verdict per platform per signal counts. Unknown signals are listed by position.
    """
    unknown: list[int] = []
    disputed: list[int] = []
    with context.transaction() as session:
        caller = authenticate(session, key, Scope.FEEDBACK_WRITE)
        for index, verdict in enumerate(body.feedback):
            kind, value = bank.normalise(verdict.type, verdict.value, f"feedback {index}")
            signal = bank.find_signal(session, kind, value, published=True)
            if signal is None:
                unknown.append(index)
                continue
            service.record_feedback(
                session,
                participant_id=caller.participant_id,
                signal=signal,
                value=verdict.feedback,
                tags=verdict.tags,
                clock=context.clock,
            )
            if context.review_dispute(
                session,
                signal_id=signal.id,
                threshold=context.settings.dispute_threshold,
                clock=context.clock,
            ):
                disputed.append(index)
    return FeedbackResult(
        recorded=len(body.feedback) - len(unknown), unknown=unknown, disputed=disputed
    )
