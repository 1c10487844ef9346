"""Where the agent stands with each hub (`GET /v1/hubs`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request

from redress.agent.auth import AUTHORISED
from redress.agent.sync.service import HubFollower
from redress.web.errors import error_responses

router = APIRouter()


async def followers(request: Request) -> Mapping[str, HubFollower]:
    """The running agent's followers, by hub name."""
    found: Mapping[str, HubFollower] = request.app.state.agent.followers
    return found


Followers = Annotated[Mapping[str, HubFollower], Depends(followers)]


@router.get("/v1/hubs", tags=["ops"], dependencies=[AUTHORISED], responses=error_responses(401))
def hubs(following: Followers) -> dict[str, Any]:
    """Each hub: sync position, live signals per type, item references held, last error."""
    return {
        "hubs": [
            {
                "name": name,
                "url": f.hub.url,
                "enabled": f.hub.enabled,
                "action": f.hub.action,
                "pdq_threshold": f.hub.pdq_threshold,
                "cursor": f.cursor,
                "head": f.head,
                "signals": f.bank.counts(),
                "items": f.bank.item_count(),
                "last_error": f.last_error,
            }
            for name, f in following.items()
        ]
    }
