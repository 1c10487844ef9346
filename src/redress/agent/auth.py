"""The agent token: the one credential of the platform's services and moderators, checked on
every route that needs it."""

from __future__ import annotations

import hashlib
import hmac
from typing import Annotated, Any

from fastapi import Path as PathParam
from fastapi import Request, Security
from fastapi.security import HTTPAuthorizationCredentials

from redress.agent.errors import AgentCode, AgentError
from redress.web.openapi import AGENT_TOKEN

#: Row ids of the agent's tables (32-bit integers on PostgreSQL).
RowId = Annotated[int, PathParam(ge=1, le=2**31 - 1)]


class AgentToken:
    """The agent's token, kept as its digest and compared in constant time."""

    def __init__(self, token: str) -> None:
        self._digest = hashlib.sha256(token.encode()).digest()

    def matches(self, token: str | None) -> bool:
        """Whether `token` is the agent's token."""
        return token is not None and hmac.compare_digest(
            hashlib.sha256(token.encode()).digest(), self._digest
        )

    def in_header(self, authorization: str | None) -> bool:
        """Whether an `Authorization` header carries the agent token."""
        scheme, _, token = (authorization or "").partition(" ")
        return scheme.lower() == "bearer" and self.matches(token.strip())


def agent_token(request: Request) -> AgentToken:
    """The token of the agent this app serves (`app.state.token`)."""
    token: AgentToken = request.app.state.token
    return token


async def require_token(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Security(AGENT_TOKEN)],
) -> None:
    """Refuse (401) a request without the agent token."""
    if credentials is None or not agent_token(request).matches(credentials.credentials.strip()):
        raise AgentError(
            401,
            AgentCode.UNAUTHORISED,
            "Send the agent token as 'Authorization: Bearer <token>'.",
        )


#: The dependency of every route that needs the agent token.
AUTHORISED: Any = Security(require_token)
