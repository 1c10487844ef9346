"""What routes share: settings, the database, the secret box, rate limits, the client address."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from fastapi import Request
from limits import parse
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from redress.config import Settings
from redress.db import unit_of_work
from redress.hub.errors import HubError
from redress.hub.feed_wire import FeedBlockCache
from redress.hub.secrets_box import SecretBox


@dataclass
class HubContext:
    """Everything a request needs, built once per application."""

    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    box: SecretBox
    limiter: MovingWindowRateLimiter
    feed_cache: FeedBlockCache = field(default_factory=FeedBlockCache)

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """One unit of work: commits when the block ends, rolls back on error."""
        with unit_of_work(self.sessions) as session:
            yield session

    def rate_limit(self, bucket: str, rate: str, client: str) -> None:
        """Refuse with 429 when `client` exceeded `rate` (e.g. ``20/hour``) in `bucket`."""
        item = parse(rate)
        if not self.limiter.hit(item, bucket, client):
            reset, _remaining = self.limiter.get_window_stats(item, bucket, client)
            raise HubError(
                429,
                "rate_limited",
                f"Too many requests from your connection; try again in "
                f"{max(1, int(reset - time.time()))} seconds.",
            )


def new_limiter() -> MovingWindowRateLimiter:
    """An in-process limiter (per hub process; put a shared store behind several workers)."""
    return MovingWindowRateLimiter(MemoryStorage())


def hub(request: Request) -> HubContext:
    """The application's context (a FastAPI dependency)."""
    context: HubContext = request.app.state.hub
    return context


def client_address(request: Request) -> str:
    """The caller's address; the first X-Forwarded-For hop only when configured to trust it."""
    context = hub(request)
    if context.settings.trust_forwarded_for:
        forwarded = request.headers.get("x-forwarded-for", "")
        if forwarded.strip():
            return forwarded.split(",")[0].strip()
    return request.client.host if request.client else "unknown"
