"""What routes share: settings, the database, the secret box, rate limits, PIN budgets, the
clock and the client address."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from fastapi import Request
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from redress.config import Settings, proxy_hops
from redress.core.clock import Clock, SystemClock
from redress.db import unit_of_work
from redress.hub.errors import HubError
from redress.hub.feed_wire import FeedBlockCache
from redress.hub.lockout import Budgets, PinGuard, RedisBackoffStore, SqlBackoffStore
from redress.hub.models import PIN_ATTEMPTS, RATE_LIMIT_COUNTERS
from redress.hub.secrets_box import SecretBox
from redress.web.ratelimit import RateLimiter, make_storage


@dataclass
class HubContext:
    """Everything a request needs, built once per application."""

    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    box: SecretBox
    limiter: RateLimiter
    guard: PinGuard
    clock: Clock = field(default_factory=SystemClock)
    feed_cache: FeedBlockCache = field(default_factory=FeedBlockCache)

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
                "rate_limited",
                f"Too many requests from your connection; try again in {wait} seconds.",
                retry_after=wait,
            )


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


def shared_limits(settings: Settings, engine: Engine, clock: Clock) -> tuple[RateLimiter, PinGuard]:
    """The rate limiter and the PIN guard, both counting where every worker sees the counts:
    Redis when `rate_limit_storage` names it, else the hub's database."""
    url = settings.rate_limit_storage
    limiter = RateLimiter(make_storage(url, engine, RATE_LIMIT_COUNTERS, clock), clock)
    store = RedisBackoffStore(redis_client(url)) if url else SqlBackoffStore(engine, PIN_ATTEMPTS)
    return limiter, PinGuard(store, Budgets.from_settings(settings), clock)


def hub(request: Request) -> HubContext:
    """The application's context (a FastAPI dependency)."""
    context: HubContext = request.app.state.hub
    return context


def client_address(request: Request) -> str:
    """The caller's address, for rate limits and PIN budgets.

    Behind `trusted_proxies` = N proxies, each of which appends the address it received the
    request from to X-Forwarded-For, the client is the Nth entry from the right: every entry left
    of it was written by the client and is ignored. With fewer entries than N (a request that
    did not pass through every proxy) or an entry that is not an address, the connection's own
    address is used. IPv6 addresses count by their /64 network, which one subscriber holds.
    """
    peer = request.client.host if request.client else "unknown"
    hops = proxy_hops(hub(request).settings)
    if hops:
        entries = [
            part.strip()
            for header in request.headers.getlist("x-forwarded-for")
            for part in header.split(",")
        ]
        if len(entries) >= hops and budget_address(entries[-hops]) != "unknown":
            peer = entries[-hops]
    return budget_address(peer)


def budget_address(text: str) -> str:
    """The key an address is counted under: IPv4 as it is, IPv6 by its /64 ("unknown" for
    anything that is not an address)."""
    try:
        address = ipaddress.ip_address(text.strip("[]"))
    except ValueError:
        return "unknown"
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return str(address)
