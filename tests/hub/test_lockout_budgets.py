"""The lock-out's arithmetic and stores taken one piece at a time (`redress.hub.cases.lockout`): the
back-off schedule's edges, forgiveness, what a right PIN gives back, the budgets settings make,
the outcome metric, the clean-up of old counters, and the Redis store's expiry and retry."""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping

import pytest
import redis
from prometheus_client import REGISTRY
from sqlalchemy import Engine, func, select

from redress.core.clock import ManualClock
from redress.db import make_engine
from redress.hub.cases.lockout import (
    Backoff,
    Budgets,
    PinGuard,
    RedisBackoffStore,
    SqlBackoffStore,
    State,
)
from redress.hub.cases.models import PIN_ATTEMPTS
from redress.hub.errors import HubError
from tests.hub.conftest import hub_settings
from tests.hub.redis_server import run_redis


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    """An engine on a fresh migrated database of each kind."""
    made = make_engine(database_url)
    yield made
    made.dispose()


def test_waits_start_at_the_free_tries_and_stop_doubling_at_sixty_steps() -> None:
    backoff = Backoff(free=3, base=30, cap=900, drain=900)
    assert [backoff.wait(level) for level in (2.5, 3, 3.5, 4, 4.5)] == [0, 30, 30, 60, 60]
    unbounded = Backoff(free=0, base=1, cap=math.inf, drain=1)
    assert unbounded.wait(100) == 2.0**60


def test_failures_are_forgiven_one_per_drain() -> None:
    backoff = Backoff(free=3, base=30, cap=900, drain=100)
    assert backoff.forgiven(State(), 5.0) == (0.0, 5.0)
    assert backoff.forgiven(State(level=3, since=1000), 1250) == (1, 1200)
    assert backoff.forgiven(State(level=2.5, since=1000), 1199) == (1.5, 1100)
    assert backoff.forgiven(State(level=2, since=1000), 1200) == (0.0, 1200)
    assert backoff.forgiven(State(level=2, since=1000), 900) == (2, 1000)  # clock went back


def test_a_charge_and_a_clearing() -> None:
    backoff = Backoff(free=3, base=30, cap=900, drain=100)
    charged = backoff.charge(State(level=2, since=1000), 1050)
    assert charged == State(level=3, next_at=1080, since=1000, good_until=0, expires_at=1300)
    known = backoff.charge(State(good_until=5000), 1000)
    assert known == State(level=1, next_at=1000, since=1000, good_until=5000, expires_at=5000)
    cleared = backoff.cleared(State(level=4, good_until=3000), 2000, good_until=2500)
    assert cleared == State(level=0, next_at=0, since=2000, good_until=3000, expires_at=3000)
    assert backoff.cleared(State(level=4), 2000) == State(0, 0, 2000, 0, 2000)


def test_budgets_from_settings() -> None:
    settings = hub_settings(
        "sqlite://",
        pin_free_tries=4,
        pin_case_free_tries=7,
        pin_backoff_base_seconds=400,
        pin_backoff_max_seconds=900,
        pin_case_max_wait_seconds=300,
        client_pin_failures_per_hour=12,
        pin_known_address_days=2,
    )
    assert Budgets.from_settings(settings) == Budgets(
        pair=Backoff(4, 400, 900, 900),
        case=Backoff(7, 300, 300, 300),  # the base never exceeds the cap
        address=Backoff(12, 400, 900, 300),
        known_seconds=2 * 86400,
    )


def _count(outcome: str) -> float:
    return REGISTRY.get_sample_value("redress_pin_attempts_total", {"outcome": outcome}) or 0.0


BUDGETS = Budgets(
    pair=Backoff(2, 30, 900, 900),
    case=Backoff(3, 30, 300, 300),
    address=Backoff(2, 30, 900, 900),
    known_seconds=3600,
)


def test_each_refusal_is_counted_by_the_budget_that_refused(engine: Engine) -> None:
    clock = ManualClock()
    guard = PinGuard(SqlBackoffStore(engine, PIN_ATTEMPTS), BUDGETS, clock)
    outcomes = ("right", "wrong", "refused_pair", "refused_case", "refused_address")
    before = {outcome: _count(outcome) for outcome in outcomes}

    def refused_by(number: str, address: str) -> int:
        with pytest.raises(HubError) as refused:
            guard.reserve(number, address)
        return int(refused.value.retry_after or 0)

    guard.reserve("A", "x")
    guard.failed()
    guard.reserve("A", "x")  # the pair's last free try
    assert refused_by("A", "x") == 30
    guard.reserve("A", "y")  # the case's last free try (3 from all addresses)
    assert refused_by("A", "z") == 30
    guard.reserve("B", "x")  # x's second new number: its last free try
    assert refused_by("C", "x") == 30
    clock.advance(30)
    guard.succeeded(guard.reserve("D", "w"))
    after = {outcome: _count(outcome) - before[outcome] for outcome in outcomes}
    assert after == dict.fromkeys(outcomes, 1.0)


def test_a_right_pin_gives_back_what_it_cost_the_address(engine: Engine) -> None:
    clock = ManualClock()
    guard = PinGuard(SqlBackoffStore(engine, PIN_ATTEMPTS), BUDGETS, clock)
    guard.reserve("B", "x")
    guard.succeeded(guard.reserve("A", "x"))  # x's level is 1 again, its 30 s wait stands
    clock.advance(30)
    guard.reserve("C", "x")  # level 2: wait 30 s (it would be 60 s had A's try been kept)
    clock.advance(30)
    guard.reserve("D", "x")
    # A known address's right PIN was never charged to the address: nothing to give back.
    clock.advance(900)
    guard.succeeded(guard.reserve("A", "x"))
    guard.succeeded(guard.reserve("A", "x"))
    clock.advance(60)
    guard.reserve("E", "x")  # level 3, less 1 forgiven, plus this one: 3, a 60 s wait
    with pytest.raises(HubError):  # (had the known address's tries been given back: none)
        guard.reserve("F", "x")


def _rows(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(connection.execute(select(func.count()).select_from(PIN_ATTEMPTS)).scalar_one())


def test_old_counters_are_deleted_every_256_attempts(engine: Engine) -> None:
    store = SqlBackoffStore(engine, PIN_ATTEMPTS)

    def expiring(at: float) -> object:
        def decide(states: Mapping[str, State]) -> Mapping[str, State]:
            return {key: State(level=1, expires_at=at) for key in states}

        return decide

    for n in range(100):
        store.update([f"old{n}"], expiring(1000.0), 0)  # type: ignore[arg-type]
    store.update(["edge"], expiring(1001.0), 0)  # type: ignore[arg-type]
    for n in range(154):
        store.update([f"new{n}"], expiring(1100.0), 1061)  # type: ignore[arg-type]
    assert _rows(engine) == 255
    store.update(["last"], expiring(1100.0), 1061)  # type: ignore[arg-type]
    # Rows that expired a minute before now went; "edge" (expired 60 s ago exactly) stays.
    assert _rows(engine) == 156


@pytest.fixture
def client() -> Iterator[redis.Redis]:
    """A client of a fresh redis-server on loopback."""
    with run_redis() as url:
        made = redis.Redis.from_url(url)
        yield made
        made.close()


def test_redis_counters_expire_a_minute_after_they_stop_meaning_anything(
    client: redis.Redis,
) -> None:
    store = RedisBackoffStore(client)
    written = State(level=2.5, next_at=1030, since=1000, good_until=0, expires_at=1500.2)
    store.update(["k", "old"], lambda states: {"k": written, "old": State()}, 1000)
    assert client.ttl("redress:pin:k") == 561  # ceil(500.2) + 60
    assert client.ttl("redress:pin:old") == 60  # already over: the least
    seen: list[Mapping[str, State]] = []
    store.update(["k", "new"], lambda states: seen.append(dict(states)) or {}, 1000)
    assert seen == [{"k": written, "new": State()}]


def test_the_redis_store_retries_when_another_client_wrote_between(client: redis.Redis) -> None:
    store = RedisBackoffStore(client, prefix="p:")
    calls: list[float] = []

    def decide(states: Mapping[str, State]) -> Mapping[str, State]:
        calls.append(states["k"].level)
        if len(calls) == 1:  # another worker charges the key meanwhile
            client.hset("p:k", mapping={"level": "5.0"})
        return {"k": State(level=states["k"].level + 1)}

    store.update(["k"], decide, 0)
    assert calls == [0.0, 5.0]
    assert client.hget("p:k", "level") == b"6.0"


def test_an_address_stops_being_known_at_the_second_it_expires(engine: Engine) -> None:
    clock = ManualClock()
    guard = PinGuard(SqlBackoffStore(engine, PIN_ATTEMPTS), BUDGETS, clock)
    guard.succeeded(guard.reserve("A", "x"))  # x known to A for known_seconds (an hour)
    clock.advance(3600)
    guard.reserve("A", "x")  # no longer known: a number new to x again, charged to x
    guard.reserve("B", "x")  # x's second: a 30 s wait
    with pytest.raises(HubError):
        guard.reserve("C", "x")


def test_a_right_pin_gives_back_one_failure_only(engine: Engine) -> None:
    clock = ManualClock()
    guard = PinGuard(SqlBackoffStore(engine, PIN_ATTEMPTS), BUDGETS, clock)
    guard.reserve("B", "x")
    guard.reserve("C", "x")  # x at level 2: a 30 s wait
    clock.advance(30)
    guard.succeeded(guard.reserve("A", "x"))  # level 3, then 2 again
    clock.advance(60)
    guard.reserve("D", "x")  # level 3: a 60 s wait (30 s had two been given back)
    clock.advance(30)
    with pytest.raises(HubError):
        guard.reserve("E", "x")
