"""A StopNCII-compatible API beside the native one, so that existing clients (Meta's
python-threatexchange `StopNCIIAPI`, HMA) work by changing only their base URL.

Same paths, headers, fields and enums as the StopNCII partner API. Authentication: the Redress
API key in `Ocp-Apim-Subscription-Key` and/or `x-functions-key` (give the client the same key for
both). `caseNumbers` carries opaque item references, never survivors' case numbers. Only the
signal types StopNCII knows are exported: PDQ as `ImagePDQ`, MD5 as `VideoMD5`.
"""

from __future__ import annotations

import re
import time
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Security
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from redress.hashing.errors import InvalidSignalError
from redress.hashing.json_schema import value_pattern
from redress.hashing.signal_types import get_signal_type
from redress.hub.api_keys import Scope
from redress.hub.bank import ValidSignal, add_item
from redress.hub.errors import HubError
from redress.hub.feedback import record_feedback
from redress.hub.models import Feedback, Item, ItemSignal, Signal
from redress.hub.participants import Caller, authenticate
from redress.web.context import HubContext, hub
from redress.web.errors import error_responses
from redress.web.openapi import stopncii_keys

router = APIRouter(
    prefix="/stopncii/v1",
    tags=["StopNCII-compatible"],
    responses=error_responses(401, 403, 413, 422),
)
Hub = Annotated[HubContext, Depends(hub)]

TO_STOPNCII = {"pdq": "ImagePDQ", "md5": "VideoMD5"}
FROM_STOPNCII = {name: kind for kind, name in TO_STOPNCII.items()}
FEEDBACK_VALUES = {"PendingReview", "Blocked", "NotBlocked"}
#: Checkpoints lag this far behind the clock so a transaction that commits late is re-read.
SAFETY_SECONDS = 30
#: A page token: the (time, id) of the last record served. Opaque to clients.
TOKEN_PATTERN = r"^(?:([0-9]{1,18})\.([0-9]{1,18}))?$"  # noqa: S105 (a regular expression)
MAX_INT64 = 2**63 - 1
FeedKeys = Annotated[list[str], Security(stopncii_keys, scopes=[Scope.FEED_READ.value])]
FeedbackKeys = Annotated[list[str], Security(stopncii_keys, scopes=[Scope.FEEDBACK_WRITE.value])]
SubmitKeys = Annotated[list[str], Security(stopncii_keys, scopes=[Scope.HASHES_SUBMIT.value])]


class FeedbackBody(BaseModel):
    """`POST /stopncii/v1/SubmitFeedback`. Each entry is `{"hashValue", "feedbackValue":
    PendingReview|Blocked|NotBlocked, "tags": [...]}`; an entry that is not one, or names a
    hash this hub does not hold, is skipped and listed in `skipped` (the rest are recorded)."""

    model_config = ConfigDict(extra="allow")

    hashFeedbacks: list[Any]  # noqa: N815 (StopNCII's field name)


def _stopncii_hash(signal_type: str, kind: str) -> dict[str, Any]:
    return {
        "title": signal_type,
        "properties": {
            "signalType": {"enum": [signal_type, f"StopNCIISignalType.{signal_type}"]},
            "hashValue": {"type": "string", "pattern": value_pattern(kind)},
        },
    }


class HashRecord(BaseModel):
    """One hash a platform found: `ImagePDQ` (64 hex characters) or `VideoMD5` (32)."""

    model_config = ConfigDict(
        extra="allow",
        json_schema_extra={
            "anyOf": [_stopncii_hash(name, kind) for name, kind in FROM_STOPNCII.items()]
        },
    )

    signalType: str  # noqa: N815 (StopNCII's field names)
    hashValue: str  # noqa: N815
    CSPFeedbacks: list[Any] = Field(default_factory=list)


class HashesBody(BaseModel):
    """`POST /stopncii/v1/SubmitHashes`."""

    model_config = ConfigDict(extra="allow")

    hashRecords: list[HashRecord]  # noqa: N815


def _caller(session: Session, keys: list[str], scope: Scope) -> Caller:
    if not keys:
        raise HubError(
            401, "missing_key", "Send the API key in Ocp-Apim-Subscription-Key / x-functions-key."
        )
    callers = [authenticate(session, key, scope) for key in dict.fromkeys(keys)]
    if len({c.participant_id for c in callers}) != 1:
        raise HubError(401, "invalid_key", "The two key headers belong to different platforms.")
    return callers[0]


def _token(timestamp: int, signal_id: int) -> str:
    return f"{timestamp}.{signal_id}"


def _untoken(token: str) -> tuple[int, int] | None:
    """The (time, id) a page token carries; None for an empty token (the first page)."""
    found = re.search(TOKEN_PATTERN, token)
    if found is None:
        raise HubError(400, "bad_page_token", "nextPageToken is not one this hub gave out.")
    return None if found[1] is None else (int(found[1]), int(found[2]))


def _record(session: Session, signal: Signal) -> dict[str, Any]:
    holders = session.execute(
        select(Item.ref, Item.status)
        .join(ItemSignal, ItemSignal.item_id == Item.id)
        .where(ItemSignal.signal_id == signal.id, Item.status.in_(["active", "withdrawn"]))
    ).all()
    feedbacks = session.scalars(select(Feedback).where(Feedback.signal_id == signal.id)).all()
    return {
        "lastModtimestamp": signal.modified_at,
        "signalType": TO_STOPNCII[signal.type],
        "hashValue": signal.value,
        "hashStatus": "Active" if signal.status == "active" else "Withdrawn",
        "caseNumbers": {
            ref: "Active" if status == "active" and signal.status == "active" else "Withdrawn"
            for ref, status in holders
        },
        "CSPFeedbacks": [
            {
                "feedbackValue": f.value,
                "tags": [t for t in f.tags.split(",") if t],
                "source": f.participant.name,
            }
            for f in feedbacks
        ],
    }


@router.get("/FetchHashes", responses=error_responses(400))
def fetch_hashes(
    context: Hub,
    keys: FeedKeys,
    start_timestamp: Annotated[int, Query(alias="startTimestamp", ge=0, le=MAX_INT64)] = 0,
    page_size: Annotated[int, Query(alias="pageSize", ge=1, le=1000)] = 800,
    next_page_token: Annotated[
        str | None,
        Query(alias="nextPageToken", max_length=200, json_schema_extra={"pattern": TOKEN_PATTERN}),
    ] = None,
) -> dict[str, Any]:
    """Every PDQ/MD5 hash changed since `startTimestamp`, in (time, id) order, paged."""
    with context.transaction() as session:
        _caller(session, keys, Scope.FEED_READ)
        query = select(Signal).where(
            Signal.type.in_(list(TO_STOPNCII)),
            Signal.modified_at >= start_timestamp,
            Signal.status != "unpublished",  # held for review, or never released
        )
        after = _untoken(next_page_token) if next_page_token is not None else None
        if after is not None:
            query = query.where(
                or_(
                    Signal.modified_at > after[0],
                    and_(Signal.modified_at == after[0], Signal.id > after[1]),
                )
            )
        rows = list(
            session.scalars(query.order_by(Signal.modified_at, Signal.id).limit(page_size + 1))
        )
        page, more = rows[:page_size], len(rows) > page_size
        records = [_record(session, signal) for signal in page]
    newest = page[-1].modified_at if page else start_timestamp
    checkpoint = max(start_timestamp, min(newest, int(time.time()) - SAFETY_SECONDS))
    return {
        "count": len(records),
        "nextPageToken": _token(page[-1].modified_at, page[-1].id) if more else None,
        "nextSetTimestamp": checkpoint,
        "hasMoreRecords": more,
        "hashRecords": records,
    }


def _signal_for(session: Session, value: str, kind: str | None = None) -> Signal | None:
    kind = kind or ("pdq" if len(value.strip()) == 64 else "md5")
    try:
        normal = get_signal_type(kind).normalize(value)
    except InvalidSignalError:
        return None
    return session.scalar(
        select(Signal).where(
            Signal.type == kind, Signal.value == normal, Signal.status != "unpublished"
        )
    )


def _record_csp_feedback(
    session: Session, context: HubContext, caller: Caller, signal: Signal, entry: dict[str, Any]
) -> bool:
    """Record one StopNCII `{feedbackValue, tags}`; False if the value is not a verdict."""
    verdict = entry.get("feedbackValue")
    if verdict not in FEEDBACK_VALUES:
        return False
    tags = entry.get("tags")
    record_feedback(
        session,
        participant_id=caller.participant_id,
        signal=signal,
        value=str(verdict),
        tags=[str(t) for t in tags] if isinstance(tags, list) else [],
        dispute_threshold=context.settings.dispute_threshold,
    )
    return True


@router.post("/SubmitFeedback")
def submit_feedback(context: Hub, keys: FeedbackKeys, payload: FeedbackBody) -> dict[str, Any]:
    """`{"count", "hashFeedbacks": [{"hashValue", "feedbackValue", "tags"}]}`."""
    entries = payload.hashFeedbacks
    recorded, unknown = 0, []
    with context.transaction() as session:
        caller = _caller(session, keys, Scope.FEEDBACK_WRITE)
        for index, entry in enumerate(entries):
            signal = (
                _signal_for(session, str(entry.get("hashValue", "")))
                if isinstance(entry, dict)
                else None
            )
            if signal is None or not _record_csp_feedback(session, context, caller, signal, entry):
                unknown.append(index)
                continue
            recorded += 1
    return {"count": recorded, "skipped": unknown}


@router.post("/SubmitHashes")
def submit_hashes(context: Hub, keys: SubmitKeys, payload: HashesBody) -> dict[str, Any]:
    """Hashes a platform found itself (scope `hashes:submit`), with its feedback on each."""
    added = 0
    with context.transaction() as session:
        caller = _caller(session, keys, Scope.HASHES_SUBMIT)
        for index, record in enumerate(payload.hashRecords):
            # python-threatexchange sends str(enum): "StopNCIISignalType.ImagePDQ".
            name = record.signalType.rsplit(".", 1)[-1]
            kind = FROM_STOPNCII.get(name)
            if kind is None:
                raise HubError(
                    422, "invalid_signal", f"hashRecords[{index}]: signalType {name!r} unsupported."
                )
            try:
                value = get_signal_type(kind).normalize(record.hashValue)
            except InvalidSignalError as exc:
                raise HubError(
                    422, "invalid_signal", f"hashRecords[{index}]: {exc.message}"
                ) from None
            item = add_item(
                session,
                [ValidSignal(kind, value, None, None)],
                participant_id=caller.participant_id,
                actor=f"participant:{caller.participant_id}",
            )
            signal = item.links[0].signal if item.links else _signal_for(session, value, kind)
            for feedback in record.CSPFeedbacks:
                if signal is not None and isinstance(feedback, dict):
                    _record_csp_feedback(session, context, caller, signal, feedback)
            added += 1
    return {"count": added}
