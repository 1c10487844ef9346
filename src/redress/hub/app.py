"""The hub's application factory: each domain's router, the portal's pages, the operations
routes, error shapes, limits, docs, logs and metrics."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from sqlalchemy import Engine

from redress import __version__, portal
from redress.config import Settings, get_settings, proxy_hops
from redress.core.clock import Clock, SystemClock
from redress.db import make_engine, make_session_factory
from redress.hub.bank import api as bank_api
from redress.hub.bank import holds
from redress.hub.bank.wire import FeedBlockCache
from redress.hub.cases import api as cases_api
from redress.hub.cases.lockout import Budgets, PinGuard, RedisBackoffStore, SqlBackoffStore
from redress.hub.cases.models import PIN_ATTEMPTS
from redress.hub.context import HubContext, hub, redis_client
from redress.hub.db import RATE_LIMIT_COUNTERS
from redress.hub.disputes import api as disputes_api
from redress.hub.disputes import service as disputes
from redress.hub.feedback import api as feedback_api
from redress.hub.migrations import HUB
from redress.hub.secrets_box import SecretBox, load_key
from redress.hub.stopncii import api as stopncii_api
from redress.portal.helplines import load_helplines
from redress.web.app import install_busy_handler, install_docs, install_observability
from redress.web.body_limit import BodySizeLimit
from redress.web.errors import install_error_handlers
from redress.web.logging import configure_logging
from redress.web.openapi import extend_openapi
from redress.web.ops import ops_router
from redress.web.ratelimit import RateLimiter, make_storage
from redress.web.security_headers import SecurityHeaders

#: The portal's scripts, styles and pictures.
STATIC = portal.STATIC

__all__ = ["create_app", "create_app_from_env"]


def create_app(settings: Settings | None = None, clock: Clock | None = None) -> FastAPI:
    """A hub application on the database that `settings` name (migrate it first); `clock`
    (the system's by default) is the time of every deadline, expiry, lock-out and timestamp."""
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
        feed_cache=FeedBlockCache(),
        review_dispute=disputes.review,
        gauges=holds.refresh_gauges,
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
    routers = (
        cases_api.router,
        bank_api.router,
        feedback_api.router,
        disputes_api.router,
        stopncii_api.router,
        ops_router(hub, HUB),
        portal.router,
    )
    for router in routers:
        app.include_router(router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    install_docs(app, "Redress hub API")
    install_error_handlers(app, service="hub")
    install_busy_handler(app, service="hub")  # the portal's routes answer with their own page
    extend_openapi(app, patch=lambda document: _document_limits(document, settings))
    install_observability(app)
    app.add_middleware(
        SecurityHeaders,
        https=settings.https_mode,
        no_store=("/v1/cases",),
        trusted_proxies=proxy_hops(settings),
    )
    app.add_middleware(BodySizeLimit, limit=settings.max_request_bytes)
    return app


def shared_limits(settings: Settings, engine: Engine, clock: Clock) -> tuple[RateLimiter, PinGuard]:
    """The rate limiter and the PIN guard, both counting where every worker sees the counts:
    Redis when `rate_limit_storage` names it, else the hub's database."""
    url = settings.rate_limit_storage
    limiter = RateLimiter(make_storage(url, engine, RATE_LIMIT_COUNTERS, clock), clock)
    store = RedisBackoffStore(redis_client(url)) if url else SqlBackoffStore(engine, PIN_ATTEMPTS)
    return limiter, PinGuard(store, Budgets.from_settings(settings), clock)


def create_app_from_env() -> FastAPI:
    """Factory for `uvicorn --factory`: settings from `REDRESS_*`, JSON logs."""
    settings = get_settings()
    configure_logging(settings.log_level)
    return create_app(settings)


def _document_limits(document: dict[str, Any], settings: Settings) -> None:
    """Limits that come from settings, in the request schemas that they bound."""
    schemas = document["components"]["schemas"]
    for name in ("CaseCreate", "AddItemsIn"):
        schemas[name]["properties"]["items"]["maxItems"] = settings.max_items_per_request
    schemas["ItemIn"]["properties"]["signals"]["maxItems"] = settings.max_signals_per_item
    # Only the current statement can be accepted (an older one is refused with 409).
    schemas["CaseCreate"]["properties"]["statement_version"]["enum"] = [settings.statement_version]
