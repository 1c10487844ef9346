"""PIN lock-outs that hold (`redress.hub.cases.lockout`), tried as an attacker would over real HTTP:
parallel bursts on one and two hub apps sharing a database, restarts, a noisy address, many
addresses, capped back-off, and the same budgets in Redis. Time is a `ManualClock`."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from typing import Any

import httpx
import pytest

from redress.config import Settings
from redress.core.clock import ManualClock
from redress.db import make_engine
from redress.db.migrate import upgrade
from redress.hub.app import create_app
from redress.hub.cases import credentials
from redress.hub.cases.credentials import new_case_number
from redress.hub.cases.lockout import (
    Backoff,
    BackoffStore,
    Budgets,
    PinGuard,
    RedisBackoffStore,
    SqlBackoffStore,
)
from redress.hub.cases.models import PIN_ATTEMPTS
from redress.hub.errors import HubError
from redress.hub.migrations import HUB
from tests.hub.conftest import RunningHub, hub_settings, pdq, serve_app
from tests.hub.redis_server import run_redis

WRONG = "00000000"


@pytest.fixture
def redis_url() -> Iterator[str]:
    """A fresh redis-server on loopback."""
    with run_redis() as url:
        yield url


@pytest.fixture
def checks(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts argon2id PIN verifications (the real ones still run): [count]."""
    counted = [0]
    lock = threading.Lock()
    real = credentials.verify_pin

    def counting(pin_hash: str | None, pin: str) -> bool:
        with lock:
            counted[0] += 1
        return real(pin_hash, pin)

    monkeypatch.setattr(credentials, "verify_pin", counting)
    return counted


@contextmanager
def hubs(settings: Settings, clock: ManualClock, count: int = 1) -> Iterator[list[RunningHub]]:
    """`count` hub apps (as separate workers would be: own engines, limiters, guards) on one
    database, all on `clock`."""
    with ExitStack() as stack:
        running = []
        for _ in range(count):
            app = create_app(settings, clock)
            stack.callback(app.state.hub.engine.dispose)
            url = stack.enter_context(serve_app(app))
            client = stack.enter_context(httpx.Client(base_url=url, timeout=60))
            running.append(RunningHub(url, settings, client))
        yield running


def status(hub: RunningHub, number: str, pin: str, address: str | None = None) -> httpx.Response:
    headers = {"X-Forwarded-For": address} if address else {}
    return hub.client.post(f"/v1/cases/{number}/status", json={"pin": pin}, headers=headers)


def burst(targets: list[RunningHub], number: str, size: int = 40) -> list[str]:
    """`size` wrong PINs released together by a barrier, spread over `targets`; their codes."""
    barrier = threading.Barrier(size)
    codes: list[str] = []
    lock = threading.Lock()

    def guess(n: int) -> None:
        barrier.wait()
        code = status(targets[n % len(targets)], number, f"{n:08d}").json()["code"]
        with lock:
            codes.append(code)

    threads = [threading.Thread(target=guess, args=(n,)) for n in range(1, size + 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    return codes


@pytest.mark.parametrize("workers", [1, 2])
def test_a_parallel_burst_is_checked_at_most_the_budget(
    database_url: str, checks: list[int], workers: int
) -> None:
    clock = ManualClock()
    with hubs(hub_settings(database_url), clock, workers) as running:
        case = running[0].create_case([pdq()])
        checks[0] = 0
        codes = burst(running, case["case_number"])
        assert len(codes) == 40
        assert codes.count("wrong_case_or_pin") == 5  # PIN_FREE_TRIES
        assert codes.count("locked") == 35
        assert checks[0] == 5, "refused guesses must not be checked"
        # The right PIN now waits out the back-off too (it could be a guess).
        refused = status(running[-1], case["case_number"], case["pin"])
        assert refused.status_code == 429 and refused.json()["code"] == "locked"
        assert refused.headers["retry-after"] == "30"
        clock.advance(29)
        assert status(running[0], case["case_number"], case["pin"]).status_code == 429
        clock.advance(1)
        assert status(running[0], case["case_number"], case["pin"]).status_code == 200
        # The right PIN cleared the count: the owner's next typo costs nothing more.
        assert status(running[0], case["case_number"], WRONG).json()["code"] == "wrong_case_or_pin"
        assert status(running[0], case["case_number"], case["pin"]).status_code == 200


def test_a_restart_keeps_the_counts(database_url: str) -> None:
    clock = ManualClock()
    settings = hub_settings(database_url)
    with hubs(settings, clock) as (first,):
        case = first.create_case([pdq()])
        assert [status(first, case["case_number"], WRONG).status_code for _ in range(5)] == [
            401
        ] * 5
    with hubs(settings, clock) as (second,):
        assert status(second, case["case_number"], case["pin"]).json()["code"] == "locked"
        clock.advance(30)
        assert status(second, case["case_number"], case["pin"]).status_code == 200


def test_back_off_doubles_up_to_its_cap_and_never_more(database_url: str) -> None:
    clock = ManualClock()
    settings = hub_settings(database_url, pin_free_tries=2, pin_backoff_max_seconds=900)
    with hubs(settings, clock) as (running,):
        case = running.create_case([pdq()])
        waits: list[int] = []
        while len(waits) < 12:
            answer = status(running, case["case_number"], WRONG)
            if answer.status_code == 429:
                waits.append(int(answer.headers["retry-after"]))
                clock.advance(waits[-1])
        assert waits[:5] == [30, 60, 120, 240, 480]
        assert max(waits) == 900 and waits[-3:] == [900, 900, 900]
        assert status(running, case["case_number"], WRONG).status_code == 401  # its wait ended
        assert status(running, case["case_number"], case["pin"]).status_code == 429
        clock.advance(900)
        assert status(running, case["case_number"], case["pin"]).status_code == 200


def test_a_noisy_address_does_not_lock_the_owner_out(database_url: str) -> None:
    clock = ManualClock()
    settings = hub_settings(database_url, client_pin_failures_per_hour=5, trusted_proxies=1)
    with hubs(settings, clock) as (running,):
        mine = running.create_case([pdq()])
        other = running.create_case([pdq()])
        shared = "192.0.2.10"  # a shelter's network: the owner and a noisy neighbour
        assert status(running, mine["case_number"], mine["pin"], shared).status_code == 200
        noise = [status(running, new_case_number(), WRONG, shared).json()["code"] for _ in range(8)]
        assert noise == ["wrong_case_or_pin"] * 5 + ["locked"] * 3
        # The owner, known at this address, still gets in; new case numbers wait, not for long.
        assert status(running, mine["case_number"], mine["pin"], shared).status_code == 200
        slowed = status(running, other["case_number"], other["pin"], shared)
        assert slowed.json()["code"] == "locked"
        assert int(slowed.headers["retry-after"]) <= 900
        # Another address is not affected by the noise at all.
        assert status(running, other["case_number"], other["pin"], "192.0.2.99").status_code == 200


def test_one_address_hammering_a_case_does_not_keep_its_owner_out(database_url: str) -> None:
    clock = ManualClock()
    settings = hub_settings(database_url, trusted_proxies=1)
    with hubs(settings, clock) as (running,):
        case = running.create_case([pdq()])
        for _ in range(30):  # an attacker at one address, guessing as fast as allowed
            answer = status(running, case["case_number"], WRONG, "203.0.113.66")
            if answer.status_code == 429:
                clock.advance(int(answer.headers["retry-after"]))
        owner = status(running, case["case_number"], case["pin"], "198.51.100.20")
        assert owner.status_code == 200


def test_many_addresses_slow_a_case_for_minutes_not_hours(database_url: str) -> None:
    clock = ManualClock()
    settings = hub_settings(database_url, trusted_proxies=1)
    with hubs(settings, clock) as (running,):
        case = running.create_case([pdq()])
        number = case["case_number"]
        assert status(running, number, case["pin"], "198.51.100.20").status_code == 200
        codes = [status(running, number, WRONG, f"203.0.113.{n}").status_code for n in range(12)]
        assert codes == [401] * 10 + [429] * 2  # PIN_CASE_FREE_TRIES from all addresses
        newcomer = status(running, number, case["pin"], "198.51.100.30")
        assert newcomer.status_code == 429
        assert int(newcomer.headers["retry-after"]) <= 300  # PIN_CASE_MAX_WAIT_SECONDS
        # The owner's usual address is not made to wait for strangers' guesses.
        assert status(running, number, case["pin"], "198.51.100.20").status_code == 200


def test_status_limit_is_shared_by_two_workers(database_url: str) -> None:
    clock = ManualClock()
    settings = hub_settings(database_url, status_rate="6/hour")
    with hubs(settings, clock, 2) as running:
        number = new_case_number()
        codes = [status(running[n % 2], number, WRONG).json()["code"] for n in range(8)]
        assert codes[5:] == ["locked", "rate_limited", "rate_limited"]
        clock.advance(3600)
        assert status(running[0], number, WRONG).json()["code"] != "rate_limited"


def test_the_redis_store_holds_a_burst_across_workers(
    redis_url: str, tmp_path: Any, checks: list[int]
) -> None:
    url = f"sqlite:///{tmp_path / 'hub.db'}"
    engine = make_engine(url)
    upgrade(engine, HUB)
    engine.dispose()
    clock = ManualClock()
    settings = hub_settings(url, rate_limit_storage=redis_url, status_rate="38/hour")
    with hubs(settings, clock, 2) as running:
        case = running[0].create_case([pdq()])
        checks[0] = 0
        codes = burst(running, case["case_number"])
        assert codes.count("wrong_case_or_pin") == 5 and checks[0] == 5
        assert codes.count("rate_limited") == 2  # the status limit, counted in Redis too
        clock.advance(30)
        assert status(running[1], case["case_number"], case["pin"]).json()["code"] == (
            "rate_limited"
        )


def script(guard: PinGuard, clock: ManualClock) -> list[str]:
    """A fixed sequence of attempts and successes; what each one got."""
    outcomes = []
    steps = [("A", "x"), ("A", "x"), ("A", "y"), ("B", "x"), ("A", "x"), ("C", "x"), ("A", "x")]
    steps += [("A", "x"), ("ok", "x"), ("A", "x"), ("A", "z"), ("A", "z")]
    last = None
    for number, address in steps:
        if number == "ok":
            assert last is not None
            guard.succeeded(last)
            outcomes.append("cleared")
            continue
        try:
            last = guard.reserve(number, address)
            outcomes.append("checked")
        except HubError as exc:
            outcomes.append(f"locked {exc.retry_after}")
        clock.advance(7)
    return outcomes


def test_redis_and_database_budgets_agree(redis_url: str, tmp_path: Any) -> None:
    import redis

    engine = make_engine(f"sqlite:///{tmp_path / 'hub.db'}")
    upgrade(engine, HUB)
    budgets = Budgets(
        pair=Backoff(3, 30, 900, 900),
        case=Backoff(4, 30, 300, 300),
        address=Backoff(2, 30, 900, 120),
        known_seconds=86400,
    )
    stores: list[BackoffStore] = [
        SqlBackoffStore(engine, PIN_ATTEMPTS),
        RedisBackoffStore(redis.Redis.from_url(redis_url)),
    ]
    try:
        results = []
        for store in stores:
            clock = ManualClock()
            results.append(script(PinGuard(store, budgets, clock), clock))
        assert results[0] == results[1]
        assert results[0] == [
            "checked",  # A from x: its pair 1, case A 1, address x 1 (a number new to x)
            "checked",  # pair 2, case A 2 (A is not new to x: the address is not charged)
            "checked",  # A from y: case A 3
            "checked",  # B, new to x: address x 2, its last free try: a 30 s wait
            "checked",  # A from x: pair 3 and case A 4, both last free: 30 s waits
            "locked 16",  # C, new to x: the address waits
            "locked 16",  # A from x: the pair waits
            "locked 9",
            "cleared",  # the right PIN for A at x
            "checked",  # x is known to A: only the pair budget, cleared
            "checked",  # A from z: case A was cleared too
            "checked",
        ]
    finally:
        engine.dispose()


def test_backoff_schedule() -> None:
    backoff = Backoff(free=3, base=30, cap=900, drain=900)
    assert [backoff.wait(level) for level in range(1, 11)] == [
        0,
        0,
        30,
        60,
        120,
        240,
        480,
        900,
        900,
        900,
    ]


def test_malformed_case_numbers_do_not_share_one_count(database_url: str) -> None:
    clock = ManualClock()
    with hubs(hub_settings(database_url), clock) as (running,):
        first = [status(running, "NOT-A-NUMBER-1", WRONG).json()["code"] for _ in range(6)]
        assert first == ["wrong_case_or_pin"] * 5 + ["locked"]
        # Another malformed string has its own budget (typos do not lock each other out).
        assert status(running, "NOT-A-NUMBER-2", WRONG).json()["code"] == "wrong_case_or_pin"


def test_overlapping_parallel_attempts_keep_every_budget(database_url: str) -> None:
    """Guesses on 4 case numbers from 4 addresses at once share counters in every combination:
    each one is answered (no deadlock, no error) and no budget is overdrawn."""
    clock = ManualClock()
    settings = hub_settings(database_url, trusted_proxies=1, pin_case_free_tries=6)
    numbers = [new_case_number() for _ in range(4)]
    addresses = [f"203.0.113.{n}" for n in range(4)]
    with hubs(settings, clock, 2) as running:
        barrier = threading.Barrier(64)
        answers: list[tuple[str, str, int]] = []
        lock = threading.Lock()

        def guess(n: int) -> None:
            number, address = numbers[n % 4], addresses[(n // 4) % 4]
            barrier.wait()
            code = status(running[n % 2], number, WRONG, address).status_code
            with lock:
                answers.append((number, address, code))

        threads = [threading.Thread(target=guess, args=(n,)) for n in range(64)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)
    assert len(answers) == 64
    assert {code for _n, _a, code in answers} <= {401, 429}
    checked = [(number, address) for number, address, code in answers if code == 401]
    assert all(checked.count(pair) <= 5 for pair in set(checked))  # PIN_FREE_TRIES
    assert all(sum(n == number for n, _a in checked) <= 6 for number in numbers)
    assert len(checked) == 4 * 6  # every case's budget used, none overdrawn
