"""The agent's refusals: `AgentError` (a `RedressError`) and the codes of the app as a whole; each
domain names its own codes next to its service."""

from __future__ import annotations

from enum import StrEnum

from redress.core.errors import RedressError


class AgentError(RedressError):
    """A request the agent refuses (the shape is `RedressError`'s)."""


class AgentCode(StrEnum):
    """Codes of the agent as a whole (not of one domain)."""

    UNAUTHORISED = "unauthorised"
    BUSY = "busy"


class AgentBusyError(AgentError):
    """The memory budget stayed full for the whole wait: 503, to be retried after a pause."""

    def __init__(self, retry_after: int, budget_mb: int) -> None:
        super().__init__(
            503,
            AgentCode.BUSY,
            f"The agent is hashing as much as its memory budget ({budget_mb} MB, "
            f"REDRESS_AGENT_MEMORY_BUDGET_MB) allows; retry in {retry_after} s.",
            retry_after=retry_after,
        )
