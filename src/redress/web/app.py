"""Pieces every Redress application is assembled from: self-hosted API docs, the busy-database
handler and request observability (logs, metrics). The request-body limit is
`redress.web.body_limit`."""

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
from swagger_ui_bundle import swagger_ui_path

from redress.web import busy
from redress.web.errors import error_body
from redress.web.logging import LOGGER

REQUESTS = Counter("redress_http_requests_total", "HTTP requests", ["route", "method", "status"])
LATENCY = Histogram("redress_http_request_seconds", "HTTP request latency", ["route"])

__all__ = [
    "install_busy_handler",
    "install_docs",
    "install_observability",
]


def install_docs(app: FastAPI, title: str) -> None:
    """OpenAPI docs at /docs with Swagger UI served from the application itself: no CDN, no
    third party."""
    app.mount("/docs-assets", StaticFiles(directory=swagger_ui_path), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url="/openapi.json",
            title=title,
            swagger_js_url="/docs-assets/swagger-ui-bundle.js",
            swagger_css_url="/docs-assets/swagger-ui.css",
            swagger_favicon_url="/docs-assets/favicon-32x32.png",
        )


#: Paths that are API (JSON) whatever the application: a busy page is for people's pages only.
_API_PREFIXES = ("/v1/", "/stopncii/", "/healthz", "/readyz", "/metrics", "/docs", "/openapi")


def install_busy_handler(
    app: FastAPI, *, page: Callable[[Request], Response] | None = None, service: str = "hub"
) -> None:
    """A database refusing for contention is 503 busy with Retry-After (see `busy`), never 500:
    JSON for the API; `page` (a person's page, when given) for other paths."""

    @app.exception_handler(OperationalError)
    async def database_error(request: Request, exc: OperationalError) -> Response:
        if busy.is_busy(exc):
            if page is None or request.url.path.startswith(_API_PREFIXES):
                return busy.busy_response(request)
            response = page(request)
            response.headers["Retry-After"] = str(busy.RETRY_AFTER_SECONDS)
            return response
        LOGGER.error("unhandled error", extra={"error": type(exc).__name__})
        return JSONResponse(
            error_body(
                "internal_error", f"Something went wrong on the {service}; try again later."
            ),
            500,
        )


def install_observability(app: FastAPI) -> None:
    """Per request: an id (`X-Request-Id`), a JSON log line, Prometheus counts and latency."""

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
