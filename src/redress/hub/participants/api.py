"""How platforms present their API keys, as FastAPI security dependencies: the OpenAPI document
and the code that reads the credentials are one and the same, so an operation shows the scheme
it really checks. (Participants are administered with `redress participant`, not over HTTP.)"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Security
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from redress.hub.participants.schemas import Scope

#: A platform's API key (`rk_...`). The scopes an operation needs are listed on it.
PLATFORM_KEY = HTTPBearer(
    scheme_name="platformKey",
    bearerFormat="rk_<prefix>_<secret>",
    description="A platform's API key from `redress participant add`, as "
    "`Authorization: Bearer rk_...`. Scopes: "
    + ", ".join(f"`{scope.value}`" for scope in Scope)
    + "; each operation lists the one it needs.",
    auto_error=False,
)
#: The StopNCII-compatible API takes the same key in either of StopNCII's two headers.
STOPNCII_SUBSCRIPTION_KEY = APIKeyHeader(
    name="Ocp-Apim-Subscription-Key",
    scheme_name="stopnciiSubscriptionKey",
    description="The platform's Redress API key (StopNCII's subscription-key header).",
    auto_error=False,
)
STOPNCII_FUNCTIONS_KEY = APIKeyHeader(
    name="x-functions-key",
    scheme_name="stopnciiFunctionsKey",
    description="The platform's Redress API key (StopNCII's functions-key header).",
    auto_error=False,
)


def bearer_token(
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(PLATFORM_KEY)],
) -> str | None:
    """The platform key from `Authorization: Bearer ...`, or None."""
    return credentials.credentials.strip() if credentials else None


def stopncii_keys(
    subscription: Annotated[str | None, Depends(STOPNCII_SUBSCRIPTION_KEY)],
    function: Annotated[str | None, Depends(STOPNCII_FUNCTIONS_KEY)],
) -> list[str]:
    """The keys presented in StopNCII's headers (one or both)."""
    return [key for key in (subscription, function) if key]


def scopes_of(scope: Scope) -> list[str]:
    """The `scopes=` of a `Security(...)` dependency that needs `scope`."""
    return [scope.value]


FeedKey = Annotated[str | None, Security(bearer_token, scopes=scopes_of(Scope.FEED_READ))]
FeedbackKey = Annotated[str | None, Security(bearer_token, scopes=scopes_of(Scope.FEEDBACK_WRITE))]
StopnciiFeedKeys = Annotated[list[str], Security(stopncii_keys, scopes=[Scope.FEED_READ.value])]
StopnciiFeedbackKeys = Annotated[
    list[str], Security(stopncii_keys, scopes=[Scope.FEEDBACK_WRITE.value])
]
StopnciiSubmitKeys = Annotated[
    list[str], Security(stopncii_keys, scopes=[Scope.HASHES_SUBMIT.value])
]
