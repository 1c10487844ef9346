"""The finishing touches of an application's OpenAPI document that FastAPI cannot make from the
routes alone (limits that come from settings, request bodies read by hand), and the agent's
token scheme. The hub's key schemes are the participants' (`redress.hub.participants.api`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.security import HTTPBearer
from pydantic import BaseModel

#: The agent's own token (REDRESS_AGENT_TOKEN), for the platform's services and moderators.
AGENT_TOKEN = HTTPBearer(
    scheme_name="agentToken",
    description="The agent's token (`REDRESS_AGENT_TOKEN`) as `Authorization: Bearer <token>`.",
    auto_error=False,
)


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
