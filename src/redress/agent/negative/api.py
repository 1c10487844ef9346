"""The negative bank's API: add benign hashes, list them, take one out."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request

from redress.agent.auth import AUTHORISED, RowId
from redress.agent.check.service import validate_signals
from redress.agent.negative.schemas import NEGATIVE_LINKS, NegativeIn
from redress.agent.negative.service import NegativeBank
from redress.web.errors import error_responses

router = APIRouter()


async def negative_bank(request: Request) -> NegativeBank:
    """The running agent's negative bank."""
    bank: NegativeBank = request.app.state.agent.negative
    return bank


Bank = Annotated[NegativeBank, Depends(negative_bank)]


@router.post(
    "/v1/negative",
    tags=["negative bank"],
    dependencies=[AUTHORISED],
    responses=error_responses(401, 413, 422),
)
def negative(body: NegativeIn, bank: Bank) -> dict[str, int]:
    """Add benign hashes; content that matches one is never reported."""
    signals = validate_signals([s.model_dump() for s in body.signals])
    return {"added": bank.add(signals, body.note)}


@router.get(
    "/v1/negative",
    tags=["negative bank"],
    dependencies=[AUTHORISED],
    responses={200: {"links": NEGATIVE_LINKS}, **error_responses(401)},
)
def negative_list(bank: Bank) -> dict[str, Any]:
    """The negative bank, oldest first."""
    return {
        "entries": [
            {
                "id": e.id,
                "signal": {"type": e.signal_type, "value": e.signal_value},
                "note": e.note,
                "created_at": e.created_at.isoformat(),
            }
            for e in bank.entries()
        ]
    }


@router.delete(
    "/v1/negative/{entry_id}",
    tags=["negative bank"],
    dependencies=[AUTHORISED],
    responses=error_responses(401, 404, 422),
)
def negative_remove(entry_id: RowId, bank: Bank) -> dict[str, int]:
    """Take a hash out of the negative bank."""
    bank.remove(entry_id)
    return {"removed": entry_id}
