"""A StopNCII-compatible API beside the native one, so that existing clients (Meta's
python-threatexchange `StopNCIIAPI`, HMA) work by changing only their base URL.

Same paths, headers, fields and enums as the StopNCII partner API. Authentication: the Redress
API key in `Ocp-Apim-Subscription-Key` and/or `x-functions-key` (give the client the same key for
both). `caseNumbers` carries opaque item references, never survivors' case numbers. Only the
signal types StopNCII knows are exported: PDQ as `ImagePDQ`, MD5 as `VideoMD5`.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from redress.hub.context import Hub
from redress.hub.participants.api import (
    StopnciiFeedbackKeys,
    StopnciiFeedKeys,
    StopnciiSubmitKeys,
)
from redress.hub.participants.schemas import Scope
from redress.hub.participants.service import authenticate_any
from redress.hub.stopncii import service
from redress.hub.stopncii.schemas import FeedbackBody, HashesBody
from redress.hub.stopncii.service import TOKEN_PATTERN
from redress.web.errors import error_responses

router = APIRouter(
    prefix="/stopncii/v1",
    tags=["StopNCII-compatible"],
    responses=error_responses(401, 403, 413, 422),
)
MAX_INT64 = 2**63 - 1


@router.get("/FetchHashes", responses=error_responses(400))
def fetch_hashes(
    context: Hub,
    keys: StopnciiFeedKeys,
    start_timestamp: Annotated[int, Query(alias="startTimestamp", ge=0, le=MAX_INT64)] = 0,
    page_size: Annotated[int, Query(alias="pageSize", ge=1, le=1000)] = 800,
    next_page_token: Annotated[
        str | None,
        Query(alias="nextPageToken", max_length=200, json_schema_extra={"pattern": TOKEN_PATTERN}),
    ] = None,
) -> dict[str, Any]:
    """Every PDQ/MD5 hash changed since `startTimestamp`, in (time, id) order, paged."""
    with context.transaction() as session:
        authenticate_any(session, keys, Scope.FEED_READ)
        page = service.fetch_hashes(
            session,
            start_timestamp=start_timestamp,
            page_size=page_size,
            page_token=next_page_token,
            clock=context.clock,
        )
    return page.model_dump(by_alias=True)


@router.post("/SubmitFeedback")
def submit_feedback(
    context: Hub, keys: StopnciiFeedbackKeys, payload: FeedbackBody
) -> dict[str, Any]:
    """`{"count", "hashFeedbacks": [{"hashValue", "feedbackValue", "tags"}]}`."""
    with context.transaction() as session:
        caller = authenticate_any(session, keys, Scope.FEEDBACK_WRITE)
        recorded, skipped = service.submit_feedback(
            session,
            caller=caller,
            entries=payload.hashFeedbacks,
            dispute_threshold=context.settings.dispute_threshold,
            clock=context.clock,
        )
    return {"count": recorded, "skipped": skipped}


@router.post("/SubmitHashes")
def submit_hashes(context: Hub, keys: StopnciiSubmitKeys, payload: HashesBody) -> dict[str, Any]:
    """Hashes a platform found itself (scope `hashes:submit`), with its feedback on each."""
    with context.transaction() as session:
        caller = authenticate_any(session, keys, Scope.HASHES_SUBMIT)
        added = service.submit_hashes(
            session,
            caller=caller,
            records=payload.hashRecords,
            dispute_threshold=context.settings.dispute_threshold,
            clock=context.clock,
        )
    return {"count": added}
