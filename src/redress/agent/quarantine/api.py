"""The quarantine API: list the signals quarantined by the flood safeguard and release them.
Agent token, like every other agent route."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool

from redress.agent.auth import AUTHORISED, RowId
from redress.agent.quarantine.models import QuarantinedSignal
from redress.agent.quarantine.schemas import QuarantineList, QuarantineOut, ReleaseIn, SignalOut
from redress.agent.quarantine.service import Quarantine
from redress.web.errors import error_responses


async def quarantine(request: Request) -> Quarantine:
    """The running agent's flood safeguard."""
    found: Quarantine = request.app.state.agent.quarantine
    return found


Safeguard = Annotated[Quarantine, Depends(quarantine)]
_UNAUTHORISED = error_responses(401, 422)


def quarantine_out(row: QuarantinedSignal, reported_at: str | None) -> QuarantineOut:
    """The JSON of one quarantine."""
    return QuarantineOut(
        id=row.id,
        hub=row.hub,
        signal=SignalOut(type=row.signal_type, value=row.signal_value),
        distinct_uploads=row.distinct_uploads,
        threshold=row.threshold,
        window_seconds=row.window_seconds,
        quarantined_at=row.quarantined_at.isoformat(),
        reported_at=reported_at,
        released_at=row.released_at.isoformat() if row.released_at else None,
        released_by=row.released_by,
    )


router = APIRouter(prefix="/v1/quarantine", tags=["quarantine"], dependencies=[AUTHORISED])


@router.get("", response_model=QuarantineList, responses=_UNAUTHORISED)
def quarantine_list(safeguard: Safeguard, released: bool = False) -> QuarantineList:
    """Signals quarantined for matching too many distinct uploads (`released=true` lists
    released ones too)."""
    return QuarantineList(
        quarantined=[quarantine_out(*entry) for entry in safeguard.entries(released)]
    )


@router.post(
    "/{entry_id}/release",
    response_model=QuarantineOut,
    responses=error_responses(401, 404, 409, 422),
)
async def quarantine_release(
    entry_id: RowId, safeguard: Safeguard, body: ReleaseIn | None = None
) -> QuarantineOut:
    """Act on the signal's matches again; its count of distinct uploads starts from zero."""
    operator = body.operator if body else "api"
    row = await run_in_threadpool(safeguard.release, entry_id, operator)
    reported = {r.id: at for r, at in safeguard.entries(True)}.get(row.id)
    return quarantine_out(row, reported)
