"""How the hub and the agent describe authentication in their OpenAPI documents, and the
finishing touches FastAPI cannot make from the routes alone (limits that come from settings,
request bodies read by hand).

The security schemes are FastAPI dependencies, so the document and the code that reads the
credentials are one and the same: an operation shows the scheme it really checks.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import Depends, FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel

from redress.hub.api_keys import Scope

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
#: The agent's own token (REDRESS_AGENT_TOKEN), for the platform's services and moderators.
AGENT_TOKEN = HTTPBearer(
    scheme_name="agentToken",
    description="The agent's token (`REDRESS_AGENT_TOKEN`) as `Authorization: Bearer <token>`.",
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


def extend_openapi(
    app: FastAPI,
    *,
    models: tuple[type[BaseModel], ...] = (),
    patch: Callable[[dict[str, Any]], None] | None = None,
) -> None:
    """Build the app's document once, with `models` added to its components (for bodies a route
    reads by hand) and `patch` applied (limits from settings)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        document = get_openapi(
            title=app.title,
            version=app.version,
            description=app.description,
            routes=app.routes,
        )
        components = document.setdefault("components", {}).setdefault("schemas", {})
        for model in models:
            schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
            for name, definition in schema.pop("$defs", {}).items():
                components.setdefault(name, definition)
            components[model.__name__] = schema
        if patch is not None:
            patch(document)
        app.openapi_schema = document
        return document

    app.openapi = openapi  # type: ignore[method-assign]


def schema_ref(model: type[BaseModel]) -> dict[str, str]:
    """A JSON reference to `model` in the document's components."""
    return {"$ref": f"#/components/schemas/{model.__name__}"}
