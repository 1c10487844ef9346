"""The review queue's API: held matches, a verdict on one, the file held for one."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from fastapi.responses import FileResponse

from redress.agent.auth import AUTHORISED, RowId
from redress.agent.review import service
from redress.agent.review.deps import ReviewerDep
from redress.agent.review.models import Review
from redress.agent.review.schemas import DecisionIn
from redress.web.errors import error_responses

router = APIRouter()
#: Headers of the held files and the review page: nothing from elsewhere, never cached or framed.
PRIVATE_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'self'; img-src 'self' data:; "
    "form-action 'self'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


def review_body(review: Review) -> dict[str, Any]:
    """The JSON of one review."""
    return {
        "id": review.id,
        "hub": review.hub,
        "signal": {"type": review.signal_type, "value": review.signal_value},
        "item": review.item,
        "distance": review.distance,
        "content_id": review.content_id,
        "status": review.status,
        "has_media": review.media_path is not None,
        "created_at": review.created_at.isoformat(),
        "decided_at": review.decided_at.isoformat() if review.decided_at else None,
        "decided_by": review.decided_by,
    }


@router.get(
    "/v1/reviews",
    tags=["review"],
    dependencies=[AUTHORISED],
    responses=error_responses(401, 422),
)
def reviews(
    agent: ReviewerDep,
    status: Literal["pending", "blocked", "not_blocked"] = "pending",
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> dict[str, Any]:
    """Held matches, oldest first."""
    with agent.transaction() as session:
        held = service.listed(session, status=status, limit=limit)
    return {"reviews": [review_body(r) for r in held]}


@router.post(
    "/v1/reviews/{review_id}",
    tags=["review"],
    dependencies=[AUTHORISED],
    responses=error_responses(401, 404, 409, 413, 422),
)
def decide(review_id: RowId, body: DecisionIn, agent: ReviewerDep) -> dict[str, Any]:
    """`Blocked` (confirmed NCII, removed) or `NotBlocked`; the hub is told."""
    return review_body(agent.decide(review_id, body.decision, body.moderator))


@router.get(
    "/v1/reviews/{review_id}/media",
    tags=["review"],
    dependencies=[AUTHORISED],
    responses={
        200: {
            "description": "The file, as uploaded.",
            "content": {
                kind: {"schema": {"type": "string", "format": "binary"}}
                for kind in ("application/octet-stream", "image/*", "video/*")
            },
        },
        **error_responses(401, 404, 422),
    },
)
def media(review_id: RowId, agent: ReviewerDep) -> FileResponse:
    """The uploaded file held for this review (until decided or the retention limit)."""
    with agent.transaction() as session:
        path = service.media_path(session, review_id=review_id)
    return FileResponse(path, headers=PRIVATE_HEADERS)
