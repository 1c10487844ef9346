"""The agent's quarantine API: list the signals quarantined by the flood safeguard and release
them (`redress.agent.quarantine`). Agent token, like every other agent route."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter
from fastapi import Path as PathParam
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from redress.agent.models import QuarantinedSignal
from redress.agent.quarantine import QuarantineError
from redress.agent.service import Agent, AgentError
from redress.web.errors import error_responses

#: Row ids of the agent's tables (32-bit integers on PostgreSQL).
RowId = Annotated[int, PathParam(ge=1, le=2**31 - 1)]


class SignalOut(BaseModel):
    """A bank signal."""

    type: str
    value: str


class QuarantineOut(BaseModel):
    """One quarantine: the signal, why (its count against the threshold), when, and whether the
    hub has been told and an operator released it."""

    id: int
    hub: str
    signal: SignalOut
    distinct_uploads: int = Field(description="Distinct uploads matched within the window.")
    threshold: int
    window_seconds: float
    quarantined_at: str
    reported_at: str | None = Field(description="When the hub acknowledged the report.")
    released_at: str | None
    released_by: str | None


class QuarantineList(BaseModel):
    """`GET /v1/quarantine`: newest first."""

    quarantined: list[QuarantineOut]


class ReleaseIn(BaseModel):
    """Who releases."""

    operator: str = Field(default="api", min_length=1, max_length=100)


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


def quarantine_router(agent: Agent, authorised: Any) -> APIRouter:
    """The routes, guarded by the app's token dependency `authorised`."""
    router = APIRouter(prefix="/v1/quarantine", tags=["quarantine"], dependencies=[authorised])

    @router.get("", response_model=QuarantineList, responses=_UNAUTHORISED)
    def quarantine_list(released: bool = False) -> QuarantineList:
        """Signals quarantined for matching too many distinct uploads (`released=true` lists
        released ones too)."""
        return QuarantineList(
            quarantined=[quarantine_out(*entry) for entry in agent.quarantine.entries(released)]
        )

    @router.post(
        "/{entry_id}/release",
        response_model=QuarantineOut,
        responses=error_responses(401, 404, 409, 422),
    )
    async def quarantine_release(entry_id: RowId, body: ReleaseIn | None = None) -> QuarantineOut:
        """Act on the signal's matches again; its count of distinct uploads starts from zero."""
        operator = body.operator if body else "api"
        try:
            row = await run_in_threadpool(agent.quarantine.release, entry_id, operator)
        except QuarantineError as exc:
            raise AgentError(exc.status, exc.code, exc.detail) from None
        reported = {r.id: at for r, at in agent.quarantine.entries(True)}.get(row.id)
        return quarantine_out(row, reported)

    return router
