"""What `check`'s routes need of the running agent (`app.state.agent`), as a protocol: the
routes depend on this shape, not on the class that assembles the agent."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Protocol

from fastapi import Depends, Request

from redress.agent.check.service import CheckResult
from redress.agent.config import AgentSettings
from redress.hashing.budget import MemoryBudget
from redress.hashing.files import SignalRecord


class Checker(Protocol):
    """The agent, as `check` sees it."""

    settings: AgentSettings
    budget: MemoryBudget
    state_dir: Path

    def check(self, signals: Sequence[SignalRecord]) -> CheckResult:
        """Match one piece of content."""
        ...

    def record(self, result: CheckResult, content_id: str | None, media: Path | None) -> None:
        """Hold or report what matched."""
        ...

    def hash_upload(self, path: Path) -> list[SignalRecord]:
        """Hash an uploaded file."""
        ...

    def upload_cost(self, path: Path) -> int:
        """Memory hashing the file takes."""
        ...

    def json_cost(self, body_bytes: int) -> int:
        """Memory a JSON check of this size takes."""
        ...


async def get_checker(request: Request) -> Checker:
    """The running agent."""
    checker: Checker = request.app.state.agent
    return checker


CheckerDep = Annotated[Checker, Depends(get_checker)]
