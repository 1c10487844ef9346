"""The FastAPI application factory for the hub: routers, error shapes, limits, logs, metrics."""

from __future__ import annotations

import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from prometheus_client import Counter, Histogram
from sqlalchemy.exc import OperationalError
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from swagger_ui_bundle import swagger_ui_path

from redress import __version__, portal
from redress.config import Settings, get_settings, proxy_hops
from redress.core.clock import Clock, SystemClock
from redress.db import make_engine, make_session_factory
from redress.hub.api import cases, platforms, stopncii
from redress.hub.secrets_box import SecretBox, load_key
from redress.portal.helplines import load_helplines
from redress.web import busy, ops
from redress.web.context import HubContext, shared_limits
from redress.web.errors import error_body, install_error_handlers
from redress.web.logging import LOGGER, configure_logging
from redress.web.openapi import extend_openapi
from redress.web.security_headers import SecurityHeaders

STATIC = portal.STATIC
REQUESTS = Counter("redress_http_requests_total", "HTTP requests", ["route", "method", "status"])
LATENCY = Histogram("redress_http_request_seconds", "HTTP request latency", ["route"])

__all__ = ["BodySizeLimit", "create_app", "create_app_from_env", "error_body"]


class BodySizeLimit:
    """Refuse request bodies over the limit with 413, whether or not they declare a length."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            await self._refuse(send)
            return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    raise _BodyTooLargeError
            return message

        try:
            await self.app(scope, counted, send)
        except _BodyTooLargeError:
            await self._refuse(send)

    async def _refuse(self, send: Send) -> None:
        response = JSONResponse(
            error_body(
                "request_too_large",
                f"The request body is over {self.limit:,} bytes; send fewer items at a time.",
            ),
            status_code=413,
        )
        await response({"type": "http"}, _empty_receive, send)


class _BodyTooLargeError(Exception):
    """Raised inside the app's receive() when the body passes the limit."""


async def _empty_receive() -> Message:
    return {"type": "http.request", "body": b"", "more_body": False}


def create_app(settings: Settings | None = None, clock: Clock | None = None) -> FastAPI:
    """A hub application on the database that `settings` name (migrate it first); `clock`
    (the system's by default) times rate-limit windows and PIN back-off."""
    settings = settings or get_settings()
    clock = clock or SystemClock()
    engine = make_engine(settings.database_url, lock_timeout=settings.database_lock_timeout_seconds)
    limiter, guard = shared_limits(settings, engine, clock)
    context = HubContext(
        settings=settings,
        engine=engine,
        sessions=make_session_factory(engine),
        box=SecretBox(load_key(settings.secret_key, settings.database_url)),
        limiter=limiter,
        guard=guard,
        clock=clock,
    )
    app = FastAPI(
        docs_url=None,
        redoc_url=None,
        title="Redress hub",
        version=__version__,
        description="Hash bank, survivor cases, platform feed and feedback. Survivors' images "
        "never reach this service: only hashes do.",
    )
    app.state.hub = context
    load_helplines(settings.helplines_file)  # a broken helplines file stops start-up, named
    for router in (cases.router, platforms.router, stopncii.router, ops.router, portal.router):
        app.include_router(router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    _install_docs(app)
    install_error_handlers(app, service="hub")
    _install_busy_handler(app)
    extend_openapi(app, patch=lambda document: _document_limits(document, settings))
    _install_observability(app)
    app.add_middleware(
        SecurityHeaders,
        https=settings.https_mode,
        no_store=("/v1/cases",),
        trusted_proxies=proxy_hops(settings),
    )
    app.add_middleware(BodySizeLimit, limit=settings.max_request_bytes)
    return app


def create_app_from_env() -> FastAPI:
    """Factory for `uvicorn --factory`: settings from `REDRESS_*`, JSON logs."""
    settings = get_settings()
    configure_logging(settings.log_level)
    return create_app(settings)


def _install_docs(app: FastAPI) -> None:
    """OpenAPI docs at /docs with Swagger UI served from this hub: no CDN, no third party."""
    app.mount("/docs-assets", StaticFiles(directory=swagger_ui_path), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url="/openapi.json",
            title="Redress hub API",
            swagger_js_url="/docs-assets/swagger-ui-bundle.js",
            swagger_css_url="/docs-assets/swagger-ui.css",
            swagger_favicon_url="/docs-assets/favicon-32x32.png",
        )


def _install_busy_handler(app: FastAPI) -> None:
    """A database refusing for contention is 503 busy with Retry-After (see `busy`), never 500."""

    @app.exception_handler(OperationalError)
    async def database_error(request: Request, exc: OperationalError) -> Response:
        if busy.is_busy(exc):
            return busy.busy_response(request)
        LOGGER.error("unhandled error", extra={"error": type(exc).__name__})
        return JSONResponse(
            error_body("internal_error", "Something went wrong on the hub; try again later."), 500
        )


def _document_limits(document: dict[str, Any], settings: Settings) -> None:
    """Limits that come from settings, in the request schemas that they bound."""
    schemas = document["components"]["schemas"]
    for name in ("CaseCreate", "AddItemsIn"):
        schemas[name]["properties"]["items"]["maxItems"] = settings.max_items_per_request
    schemas["ItemIn"]["properties"]["signals"]["maxItems"] = settings.max_signals_per_item
    # Only the current statement can be accepted (an older one is refused with 409).
    schemas["CaseCreate"]["properties"]["statement_version"]["enum"] = [settings.statement_version]


def _install_observability(app: FastAPI) -> None:
    @app.middleware("http")
    async def observe(request: Request, call_next: Callable[[Request], Awaitable[Any]]) -> Any:
        started = time.perf_counter()
        request_id = uuid.uuid4().hex[:16]
        response = await call_next(request)
        route = request.scope.get("route")
        template = getattr(route, "path", "unmatched")
        elapsed = time.perf_counter() - started
        REQUESTS.labels(template, request.method, str(response.status_code)).inc()
        LATENCY.labels(template).observe(elapsed)
        response.headers["X-Request-Id"] = request_id
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "no-referrer"
        LOGGER.info(
            "request",
            extra={
                "request_id": request_id,
                "method": request.method,
                "route": template,
                "status": response.status_code,
                "ms": round(elapsed * 1000, 1),
            },
        )
        return response
