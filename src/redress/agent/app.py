"""The agent's application: `check` for the platform's upload pipeline, the review queue (API
and a moderator page), the negative bank, the quarantine, health, readiness and metrics. Each
domain's router is mounted here; the agent itself (`runtime.Agent`) is on `app.state.agent`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from redress.agent import ops
from redress.agent.check import api as check_api
from redress.agent.check.schemas import BatchIn, CheckIn, document_limits
from redress.agent.models import RATE_LIMIT_COUNTERS
from redress.agent.negative import api as negative_api
from redress.agent.quarantine import api as quarantine_api
from redress.agent.review import api as review_api
from redress.agent.review import pages as review_pages
from redress.agent.review.sessions import ModeratorSessions
from redress.agent.runtime import Agent
from redress.agent.sync import api as sync_api
from redress.core.clock import Clock
from redress.web.body_limit import BodySizeLimit
from redress.web.errors import install_error_handlers
from redress.web.openapi import extend_openapi
from redress.web.ratelimit import RateLimiter, make_storage
from redress.web.security_headers import SecurityHeaders


def create_agent_app(agent: Agent, *, start: bool = True, clock: Clock | None = None) -> FastAPI:
    """The agent's application; `start` runs the feed followers and outbox with the app; `clock`
    times the moderator sign-in limit and sign-ins (the agent's clock by default)."""
    clock = clock or agent.clock

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        if start:
            agent.start()
        yield
        if start:
            agent.stop()

    app = FastAPI(title="Redress agent", lifespan=lifespan, docs_url=None, redoc_url=None)
    app.state.agent = agent
    app.state.token = agent.token_check
    app.state.moderators = ModeratorSessions(clock=clock)
    # Counted in the agent's database (or Redis), so every worker process shares the count.
    storage = make_storage(
        agent.settings.rate_limit_storage, agent.engine, RATE_LIMIT_COUNTERS, clock
    )
    app.state.signin_limiter = RateLimiter(storage, clock)
    install_error_handlers(app, service="agent")
    extend_openapi(
        app,
        models=(CheckIn, BatchIn),
        patch=lambda document: document_limits(document, agent.settings.max_batch),
    )
    for router in (
        ops.router,
        sync_api.router,
        check_api.router,
        review_api.router,
        negative_api.router,
        review_pages.router,
        quarantine_api.router,
    ):
        app.include_router(router)
    app.add_middleware(SecurityHeaders, https=agent.settings.https)
    app.add_middleware(BodySizeLimit, limit=agent.settings.max_upload_bytes)
    return app
