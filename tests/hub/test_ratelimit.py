"""The shared rate-limit storage (`redress.web.ratelimit`): a fixed window in the database that
holds across threads, processes' engines and restarts, and answers like the Redis storage."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from limits import parse
from sqlalchemy import Engine, func, select

from redress.core.clock import ManualClock
from redress.db import make_engine
from redress.db.migrate import upgrade
from redress.hub.db import RATE_LIMIT_COUNTERS
from redress.hub.migrations import HUB
from redress.web.ratelimit import RateLimiter, SqlStorage, make_storage
from tests.hub.redis_server import run_redis


@pytest.fixture
def redis_url() -> Iterator[str]:
    """A fresh redis-server on loopback."""
    with run_redis() as url:
        yield url


@pytest.fixture
def engines(database_url: str) -> Iterator[list[Engine]]:
    """Two engines on one migrated database: two worker processes' views of it."""
    made = [make_engine(database_url), make_engine(database_url)]
    yield made
    for engine in made:
        engine.dispose()


def sql_limiter(engine: Engine, clock: ManualClock) -> RateLimiter:
    return RateLimiter(SqlStorage(engine, RATE_LIMIT_COUNTERS, clock), clock)


def test_a_window_counts_to_the_limit_and_ends_on_time(engines: list[Engine]) -> None:
    clock = ManualClock()
    limiter = sql_limiter(engines[0], clock)
    assert [limiter.hit("3/minute", "status", "10.0.0.1") for _ in range(4)] == [
        True,
        True,
        True,
        False,
    ]
    assert limiter.hit("3/minute", "status", "10.0.0.2")  # another client, its own count
    clock.advance(20)
    assert not limiter.test("3/minute", "status", "10.0.0.1")
    assert limiter.retry_after("3/minute", "status", "10.0.0.1") == 40
    clock.advance(40)
    assert limiter.hit("3/minute", "status", "10.0.0.1")
    assert limiter.storage.get("LIMITER/status/10.0.0.1/3/1/minute") == 1


def test_parallel_hits_from_two_workers_never_pass_the_limit(engines: list[Engine]) -> None:
    clock = ManualClock()
    limiters = [sql_limiter(engine, clock) for engine in engines]
    barrier = threading.Barrier(40)
    results: list[bool] = []
    lock = threading.Lock()

    def hit(n: int) -> None:
        barrier.wait()
        allowed = limiters[n % 2].hit("10/hour", "create", "198.51.100.7")
        with lock:
            results.append(allowed)

    threads = [threading.Thread(target=hit, args=(n,)) for n in range(40)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert len(results) == 40
    assert results.count(True) == 10


def test_counts_survive_a_restart(database_url: str) -> None:
    clock = ManualClock()
    first = make_engine(database_url)
    assert all(sql_limiter(first, clock).hit("4/hour", "create", "a") for _ in range(3))
    first.dispose()  # the hub stops
    second = make_engine(database_url)
    try:
        again = sql_limiter(second, clock)
        assert [again.hit("4/hour", "create", "a") for _ in range(2)] == [True, False]
    finally:
        second.dispose()


def test_expired_rows_are_deleted_as_hits_go_on(engines: list[Engine]) -> None:
    clock = ManualClock()
    storage = SqlStorage(engines[0], RATE_LIMIT_COUNTERS, clock)
    for n in range(100):
        storage.incr(f"old{n}", 60)
    clock.advance(120)
    for n in range(300):  # past the purge interval
        storage.incr(f"new{n}", 60)
    assert storage.reset() == 300  # the hundred expired rows went


def test_redis_storage_answers_like_the_database(redis_url: str, tmp_path: object) -> None:
    engine = make_engine(f"sqlite:///{tmp_path}/limits.db")
    upgrade(engine, HUB)
    clock = ManualClock()
    try:
        limiters = [
            sql_limiter(engine, clock),
            RateLimiter(make_storage(redis_url, engine, RATE_LIMIT_COUNTERS, clock)),
        ]
        answers = [
            [
                (limiter.hit("5/minute", "status", client), limiter.test("5/minute", "x", client))
                for client in ["a", "b", "a", "a", "c", "a", "a", "a", "b"]
            ]
            for limiter in limiters
        ]
        assert answers[0] == answers[1]
        assert [hit for hit, _ in answers[0]] == [True] * 7 + [False, True]  # "a": 6th refused
        assert all(0 < limiter.retry_after("5/minute", "status", "a") <= 60 for limiter in limiters)
    finally:
        engine.dispose()


def test_a_storage_that_is_not_shared_is_refused(tmp_path: object) -> None:
    engine = make_engine(f"sqlite:///{tmp_path}/x.db")
    with pytest.raises(ValueError, match="must be a redis:// URL"):
        make_storage("memory://", engine, RATE_LIMIT_COUNTERS, None)
    engine.dispose()


def test_the_storage_answers_each_question_for_its_own_key(engines: list[Engine]) -> None:
    clock = ManualClock()
    storage = SqlStorage(engines[0], RATE_LIMIT_COUNTERS, clock)
    start = clock.now().timestamp()
    assert storage.check()
    assert storage.get("a") == 0
    assert storage.get_expiry("a") == start  # no window: it ends now
    assert storage.incr("a", 60, amount=3) == 3
    assert storage.incr("a", 60) == 4
    assert storage.incr("b", 30) == 1
    clock.advance(10)
    assert storage.incr("a", 60, amount=2) == 6  # same window: its end does not move
    assert storage.get("a") == 6
    assert storage.get("b") == 1
    assert storage.get_expiry("a") == start + 60
    assert storage.get_expiry("b") == start + 30
    clock.advance(20)  # "b"'s window ended exactly now
    assert storage.get("b") == 0
    assert storage.get_expiry("b") == start + 30  # now
    assert storage.incr("b", 30, amount=5) == 5  # a new window, from now
    assert storage.get_expiry("b") == start + 60
    storage.clear("b")
    assert storage.get("b") == 0
    assert storage.get("a") == 6  # only "b" was forgotten
    clock.advance(100)
    assert storage.get_expiry("a") == start + 130  # its window ended long ago: now
    assert storage.reset() == 1
    assert storage.get("a") == 0
    assert storage.reset() == 0


def test_retry_after_rounds_part_seconds_up(engines: list[Engine]) -> None:
    clock = ManualClock()
    limiter = sql_limiter(engines[0], clock)
    assert limiter.hit("1/minute", "x", "c")
    clock.advance(20.5)
    assert limiter.retry_after("1/minute", "x", "c") == 40  # 39.5 s left
    clock.advance(39.25)
    assert limiter.retry_after("1/minute", "x", "c") == 1  # 0.25 s left
    assert limiter.retry_after("1/minute", "x", "other") == 1  # no window: the least wait


def test_only_the_two_supported_databases_have_a_storage() -> None:
    engine = make_engine("sqlite://")
    engine.dialect.name = "postgresql"  # (the check only reads the name)
    SqlStorage(engine, RATE_LIMIT_COUNTERS)
    engine.dialect.name = "mysql"
    with pytest.raises(ValueError, match="no rate-limit storage for the mysql database"):
        SqlStorage(engine, RATE_LIMIT_COUNTERS)
    engine.dispose()


def test_expired_rows_go_on_every_256th_hit_exactly(engines: list[Engine]) -> None:
    clock = ManualClock()
    storage = SqlStorage(engines[0], RATE_LIMIT_COUNTERS, clock)
    for n in range(100):
        storage.incr(f"old{n}", 60)
    clock.advance(60)  # the old windows end exactly now
    for n in range(154):
        storage.incr(f"new{n}", 60)
    assert storage.incr("last-but-one", 60) == 1
    assert _rows(engines[0]) == 255  # 255 hits: nothing deleted yet
    storage.incr("last", 60)
    assert _rows(engines[0]) == 156


def _rows(engine: Engine) -> int:
    with engine.connect() as connection:
        query = select(func.count()).select_from(RATE_LIMIT_COUNTERS)
        return int(connection.execute(query).scalar_one())


def test_a_parsed_rate_is_taken_as_it_is(engines: list[Engine]) -> None:
    clock = ManualClock()
    limiter = sql_limiter(engines[0], clock)
    rate = parse("2/minute")
    assert [limiter.hit(rate, "x", "c") for _ in range(3)] == [True, True, False]
    assert not limiter.test(rate, "x", "c")
    clock.advance(15)
    assert limiter.retry_after(rate, "x", "c") == 45


def test_the_database_storage_runs_on_the_given_clock(engines: list[Engine]) -> None:
    clock = ManualClock(datetime(2020, 1, 1, tzinfo=UTC))  # far from the real time
    storage = make_storage(None, engines[0], RATE_LIMIT_COUNTERS, clock)
    storage.incr("k", 60)
    assert storage.get_expiry("k") == clock.now().timestamp() + 60


def test_every_redis_scheme_is_accepted_and_others_are_named(tmp_path: object) -> None:
    engine = make_engine(f"sqlite:///{tmp_path}/x.db")
    # Nothing listens there: making the storage does not connect.
    for uri in ("rediss://127.0.0.1:9/0", "redis+unix:///nonexistent/redis.sock"):
        assert make_storage(uri, engine, RATE_LIMIT_COUNTERS, None).STORAGE_SCHEME
    with pytest.raises(ValueError, match="not memcached://…"):
        make_storage("memcached://host:11211", engine, RATE_LIMIT_COUNTERS, None)
    engine.dispose()


def test_an_unreachable_database_is_reported_not_raised(tmp_path: object) -> None:
    engine = make_engine(f"sqlite:///{tmp_path}/missing/dir/x.db")
    storage = SqlStorage(engine, RATE_LIMIT_COUNTERS)
    assert not storage.check()
    engine.dispose()
