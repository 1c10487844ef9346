"""What the hub's routes share: settings, the database, the secret box, rate limits, PIN
budgets, the clock and the client address — built once per application, handed to routes as a
FastAPI dependency."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from redress.config import Settings, proxy_hops
from redress.core.clock import Clock
from redress.db import unit_of_work
from redress.hub.errors import HubCode, HubError
from redress.hub.ports import BlockCache, DisputeReview, Gauges, PinBudget
from redress.hub.secrets_box import SecretBox
from redress.web.context import forwarded_client
from redress.web.ratelimit import RateLimiter


@dataclass
class HubContext:
    """Everything a request needs, built once per application (by `redress.hub.app`, which
    plugs in the domains' parts: the PIN budgets, the feed's block cache, dispute review)."""

    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    box: SecretBox
    limiter: RateLimiter
    guard: PinBudget
    clock: Clock
    feed_cache: BlockCache
    review_dispute: DisputeReview
    gauges: Gauges

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """One unit of work: commits when the block ends, rolls back on error."""
        with unit_of_work(self.sessions) as session:
            yield session

    def rate_limit(self, bucket: str, rate: str, client: str) -> None:
        """Refuse with 429 when `client` exceeded `rate` (e.g. ``20/hour``) in `bucket`."""
        if not self.limiter.hit(rate, bucket, client):
            wait = self.limiter.retry_after(rate, bucket, client)
            raise HubError(
                429,
                HubCode.RATE_LIMITED,
                f"Too many requests from your connection; try again in {wait} seconds.",
                retry_after=wait,
            )

    # What the shared operations routes (`redress.web.ops`) ask of an application.

    @property
    def metrics_public(self) -> bool:
        """Whether /metrics is open to anyone."""
        return self.settings.metrics_public

    @property
    def metrics_token(self) -> str | None:
        """The bearer token /metrics needs (None: /metrics is hidden)."""
        token = self.settings.metrics_token
        return token.get_secret_value() if token is not None else None

    def refresh_metrics(self) -> None:
        """Gauges read from the database: the flood safeguards' holds."""
        with self.transaction() as session:
            self.gauges(session)


def redis_client(url: str) -> Any:
    """A Redis client for `url` (the optional `redis` package: ``pip install redress[redis]``)."""
    try:
        import redis
    except ImportError:
        raise ValueError(
            "REDRESS_RATE_LIMIT_STORAGE names Redis but the redis package is missing; install "
            "redress[redis] or unset the setting to use the database"
        ) from None
    return redis.Redis.from_url(url)


def hub(request: Request) -> HubContext:
    """The application's context (a FastAPI dependency)."""
    context: HubContext = request.app.state.hub
    return context


def client_address(request: Request) -> str:
    """The caller's address, for rate limits and PIN budgets, through the hub's trusted proxies
    (see `redress.web.context.forwarded_client`)."""
    return forwarded_client(request, proxy_hops(hub(request).settings))


Hub = Annotated[HubContext, Depends(hub)]
"""A route's parameter for the hub's context."""
