"""A StopNCII-compatible API beside the native one, so that existing clients (Meta's
python-threatexchange `StopNCIIAPI`, HMA) work by changing only their base URL.

Same paths, headers, fields and enums as the StopNCII partner API. Authentication: the Redress
API key in `Ocp-Apim-Subscription-Key` and/or `x-functions-key` (give the client the same key for
both). `caseNumbers` carries opaque item references, never survivors' case numbers. Only the
signal types StopNCII knows are exported: PDQ as `ImagePDQ`, MD5 as `VideoMD5`.
"""

from __future__ import annotations

import base64
import time
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Header, Query
from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from redress.hashing.errors import InvalidSignalError
from redress.hashing.signal_types import get_signal_type
from redress.hub.api_keys import Scope
from redress.hub.bank import ValidSignal, add_item
from redress.hub.errors import HubError
from redress.hub.feedback import record_feedback
from redress.hub.models import Feedback, Item, ItemSignal, Signal
from redress.hub.participants import Caller, authenticate
from redress.web.context import HubContext, hub

router = APIRouter(prefix="/stopncii/v1", tags=["StopNCII-compatible"])
Hub = Annotated[HubContext, Depends(hub)]

TO_STOPNCII = {"pdq": "ImagePDQ", "md5": "VideoMD5"}
FROM_STOPNCII = {name: kind for kind, name in TO_STOPNCII.items()}
FEEDBACK_VALUES = {"PendingReview", "Blocked", "NotBlocked"}
#: Checkpoints lag this far behind the clock so a transaction that commits late is re-read.
SAFETY_SECONDS = 30


def _key(
    subscription: Annotated[str | None, Header(alias="Ocp-Apim-Subscription-Key")] = None,
    function: Annotated[str | None, Header(alias="x-functions-key")] = None,
) -> list[str]:
    return [k for k in (subscription, function) if k]


Keys = Annotated[list[str], Depends(_key)]


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
    return base64.urlsafe_b64encode(f"{timestamp}:{signal_id}".encode()).decode()


def _untoken(token: str) -> tuple[int, int]:
    try:
        timestamp, signal_id = base64.urlsafe_b64decode(token.encode()).decode().split(":")
        return int(timestamp), int(signal_id)
    except (ValueError, UnicodeDecodeError):
        raise HubError(
            400, "bad_page_token", "nextPageToken is not one this hub gave out."
        ) from None


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


@router.get("/FetchHashes")
def fetch_hashes(
    context: Hub,
    keys: Keys,
    start_timestamp: Annotated[int, Query(alias="startTimestamp", ge=0)] = 0,
    page_size: Annotated[int, Query(alias="pageSize", ge=1, le=1000)] = 800,
    next_page_token: Annotated[str | None, Query(alias="nextPageToken", max_length=200)] = None,
) -> dict[str, Any]:
    """Every PDQ/MD5 hash changed since `startTimestamp`, in (time, id) order, paged."""
    with context.transaction() as session:
        _caller(session, keys, Scope.FEED_READ)
        query = select(Signal).where(
            Signal.type.in_(list(TO_STOPNCII)),
            Signal.modified_at >= start_timestamp,
            Signal.status != "unpublished",  # held for review, or never released
        )
        if next_page_token:
            after_ts, after_id = _untoken(next_page_token)
            query = query.where(
                or_(
                    Signal.modified_at > after_ts,
                    and_(Signal.modified_at == after_ts, Signal.id > after_id),
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
    record_feedback(
        session,
        participant_id=caller.participant_id,
        signal=signal,
        value=str(verdict),
        tags=[str(t) for t in entry.get("tags") or []],
        dispute_threshold=context.settings.dispute_threshold,
    )
    return True


@router.post("/SubmitFeedback")
def submit_feedback(
    context: Hub, keys: Keys, payload: Annotated[dict[str, Any], Body()]
) -> dict[str, Any]:
    """`{"count", "hashFeedbacks": [{"hashValue", "feedbackValue", "tags"}]}`."""
    entries = payload.get("hashFeedbacks")
    if not isinstance(entries, list):
        raise HubError(422, "invalid_request", "Expected 'hashFeedbacks': a list of feedback.")
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
def submit_hashes(
    context: Hub, keys: Keys, payload: Annotated[dict[str, Any], Body()]
) -> dict[str, Any]:
    """Hashes a platform found itself (scope `hashes:submit`), with its feedback on each."""
    records = payload.get("hashRecords")
    if not isinstance(records, list):
        raise HubError(422, "invalid_request", "Expected 'hashRecords': a list of hash records.")
    added = 0
    with context.transaction() as session:
        caller = _caller(session, keys, Scope.HASHES_SUBMIT)
        for index, record in enumerate(records):
            if not isinstance(record, dict):
                raise HubError(422, "invalid_request", f"hashRecords[{index}] is not an object.")
            # python-threatexchange sends str(enum): "StopNCIISignalType.ImagePDQ".
            name = str(record.get("signalType", "")).rsplit(".", 1)[-1]
            kind = FROM_STOPNCII.get(name)
            if kind is None:
                raise HubError(
                    422, "invalid_signal", f"hashRecords[{index}]: signalType {name!r} unsupported."
                )
            try:
                value = get_signal_type(kind).normalize(str(record.get("hashValue", "")))
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
            for feedback in record.get("CSPFeedbacks") or []:
                if signal is not None and isinstance(feedback, dict):
                    _record_csp_feedback(session, context, caller, signal, feedback)
            added += 1
    return {"count": added}
