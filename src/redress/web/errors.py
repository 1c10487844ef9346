"""The one error shape of the hub's and the agent's APIs, its OpenAPI description, and the
exception handlers both applications install.

Every refusal is JSON ``{"code", "detail"}`` (plus ``retry_after`` in seconds when waiting
helps): a stable machine-readable `code` and a `detail` saying what was wrong and what to do.
Unexpected errors are a 500 with the same shape and never a traceback.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import iter_route_contexts
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import compile_path

from redress.core.errors import RedressError
from redress.web.logging import LOGGER

#: The status a refusal of this kind answers with, for the descriptions in the OpenAPI document.
DESCRIPTIONS: dict[int, str] = {
    400: "Bad request: a value is not one this service gave out (a cursor, a page token).",
    401: "Not authenticated: missing, unknown or revoked credentials.",
    403: "Authenticated, but the credentials lack the scope this operation needs.",
    404: "No such resource.",
    405: "Method not allowed; the `Allow` header lists the methods this path accepts.",
    409: "Conflict with the current state (already decided, outdated statement, ...).",
    413: "The request body, or the number of items in it, is over the limit.",
    422: "The request is not valid: `detail` says which field and why.",
    429: "Too many requests or wrong tries; `Retry-After` says when to try again.",
    500: "Unexpected error on the server (no details are given out).",
    503: "Not ready: the database does not answer, or is not migrated.",
}
_UNREADABLE_BODY = "There was an error parsing the body"
_CODES = {404: "not_found", 405: "method_not_allowed", 413: "request_too_large"}


class ErrorBody(BaseModel):
    """What every error response carries."""

    code: str = Field(description="Stable, machine-readable reason, e.g. `invalid_key`.")
    detail: str = Field(description="What was wrong and what to do, in English.")
    retry_after: int | None = Field(
        default=None, description="Seconds to wait before trying again (lock-outs only)."
    )


def error_body(code: str, detail: str, **extra: Any) -> dict[str, Any]:
    """Every error's JSON: a stable `code` and a human `detail`."""
    return {"code": code, "detail": detail, **extra}


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses=` entries for these error statuses, all with the `ErrorBody` shape."""
    documented: dict[int | str, dict[str, Any]] = {}
    for status in statuses:
        entry: dict[str, Any] = {"model": ErrorBody, "description": DESCRIPTIONS[status]}
        if status == 429:
            entry["headers"] = {
                "Retry-After": {"description": "Seconds to wait.", "schema": {"type": "string"}}
            }
        if status == 405:
            entry["headers"] = {
                "Allow": {"description": "The methods allowed.", "schema": {"type": "string"}}
            }
        documented[status] = entry
    return documented


def validation_detail(errors: Iterable[Any]) -> str:
    """One line naming each invalid field (at most ten) and what is wrong with it."""
    problems = []
    for error in errors:
        where = ".".join(str(part) for part in error.get("loc", ()) if part != "body")
        problems.append(f"{where or 'request'}: {error.get('msg', 'invalid')}")
    return "The request is not valid: " + "; ".join(problems[:10])


def allowed_methods(request: Request) -> list[str]:
    """Every method some route serves at this request's path (RFC 9110 wants them all in
    `Allow`; Starlette lists only those of the first route that matched the path)."""
    methods: set[str] = set()
    for route in iter_route_contexts(request.app.routes):
        if route.methods and route.path and compile_path(route.path)[0].match(request.url.path):
            methods |= route.methods
    return sorted(methods)


def install_error_handlers(app: FastAPI, *, service: str) -> None:
    """JSON `ErrorBody` for every `RedressError` (status, code, detail, retry_after), invalid
    requests (422), HTTP errors (404, 405 with `Allow`) and anything unexpected (500, logged by
    type only: no traceback or data to the client)."""

    @app.exception_handler(RedressError)
    async def refused(_request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RedressError)
        status, code, detail, retry_after = exc.status, exc.code, exc.detail, exc.retry_after
        headers = None
        extra: dict[str, Any] = {}
        if retry_after is not None:
            extra["retry_after"] = retry_after
            headers = {"Retry-After": str(retry_after)}
        elif status == 429:
            headers = {"Retry-After": "60"}
        return JSONResponse(error_body(code, detail, **extra), status, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse(error_body("invalid_request", validation_detail(exc.errors())), 422)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 400 and exc.detail == _UNREADABLE_BODY:
            # FastAPI's answer to a body that is not JSON/form data at all: an invalid request.
            detail = "The request body could not be read: send JSON (or form data) in UTF-8."
            return JSONResponse(error_body("invalid_request", detail), 422)
        code = _CODES.get(exc.status_code, "http_error")
        headers = dict(exc.headers or {})
        if exc.status_code == 405:
            # No route of ours at this path: a static-files mount, which serves GET and HEAD.
            headers["Allow"] = ", ".join(allowed_methods(request)) or "GET, HEAD"
        return JSONResponse(error_body(code, str(exc.detail)), exc.status_code, headers=headers)

    @app.exception_handler(Exception)
    async def unexpected(_request: Request, exc: Exception) -> JSONResponse:
        LOGGER.error("unhandled error", extra={"error": type(exc).__name__})
        return JSONResponse(
            error_body(
                "internal_error", f"Something went wrong on the {service}; try again later."
            ),
            500,
        )
