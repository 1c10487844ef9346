"""What the review routes and page need of the running agent (`app.state.agent`), as a
protocol: the routes depend on this shape, not on the class that assembles the agent."""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Annotated, Protocol

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from redress.agent.config import AgentSettings
from redress.agent.review.models import Review
from redress.core.clock import Clock


class Reviewer(Protocol):
    """The agent, as the review queue sees it."""

    settings: AgentSettings
    clock: Clock

    def transaction(self) -> AbstractContextManager[Session]:
        """One unit of work on the agent's database."""
        ...

    def decide(self, review_id: int, decision: str, moderator: str) -> Review:
        """A verdict on a held match."""
        ...


async def get_reviewer(request: Request) -> Reviewer:
    """The running agent."""
    reviewer: Reviewer = request.app.state.agent
    return reviewer


ReviewerDep = Annotated[Reviewer, Depends(get_reviewer)]
