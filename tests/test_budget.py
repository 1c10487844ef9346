"""The memory budget (a weighted semaphore): reservations that fit run at once, the rest queue
in order and are refused after a bounded wait; concurrency forced with a Barrier, no sleeps."""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from redress.cli.batch import hash_files
from redress.hashing.budget import BudgetBusyError, MemoryBudget
from redress.hashing.files import HashOptions, hash_file
from tests.conftest import textured_image


def test_reservations_over_the_total_queue_and_start_when_memory_is_released() -> None:
    queued = threading.Event()
    budget = MemoryBudget(100, on_wait=lambda _amount: queued.set())
    start = threading.Barrier(3)
    finish = threading.Event()
    granted: list[str] = []
    lock = threading.Lock()

    def upload(name: str) -> None:
        start.wait()
        with budget.reserve(40, timeout=60):
            with lock:
                granted.append(name)
            finish.wait(60)

    threads = [threading.Thread(target=upload, args=(str(n),)) for n in range(3)]
    for thread in threads:
        thread.start()
    assert queued.wait(60), "the third reservation never queued"
    with lock:
        assert len(granted) == 2  # 40 + 40 fit in 100; a third 40 does not
    assert budget.used == 80 and budget.waiting == 1
    finish.set()  # the first two finish: the third starts, and every reservation is given back
    for thread in threads:
        thread.join(60)
    assert sorted(granted) == ["0", "1", "2"]
    assert budget.used == 0 and budget.waiting == 0


def test_a_full_budget_refuses_after_the_wait() -> None:
    budget = MemoryBudget(100)
    held = budget.acquire(100, timeout=0)
    with pytest.raises(BudgetBusyError):
        budget.acquire(1, timeout=0)
    assert budget.waiting == 0  # the refused reservation left the queue
    budget.release(held)
    assert budget.acquire(1, timeout=0) == 1


def test_waiters_are_served_in_order_so_a_large_one_is_not_starved() -> None:
    queued = threading.Semaphore(0)
    budget = MemoryBudget(100, on_wait=lambda _amount: queued.release())
    first = budget.acquire(60, timeout=0)
    order: list[int] = []

    def reserve(amount: int) -> None:
        budget.acquire(amount, timeout=60)
        order.append(amount)
        budget.release(amount)

    big = threading.Thread(target=reserve, args=(90,))
    big.start()
    assert queued.acquire(timeout=60)
    # 30 would fit beside the 60 held, but the 90 queued first goes first.
    small = threading.Thread(target=reserve, args=(30,))
    small.start()
    assert queued.acquire(timeout=60)
    assert budget.used == 60
    budget.release(first)
    big.join(60)
    small.join(60)
    assert order == [90, 30]


def test_more_than_the_total_is_clamped_to_run_alone() -> None:
    budget = MemoryBudget(100)
    assert budget.acquire(500, timeout=0) == 100
    with pytest.raises(BudgetBusyError):
        budget.acquire(1, timeout=0)


def test_async_waiters_are_woken_by_a_thread_releasing() -> None:
    async def scenario() -> list[str]:
        queued = asyncio.Event()
        loop = asyncio.get_running_loop()
        budget = MemoryBudget(10, on_wait=lambda _n: loop.call_soon_threadsafe(queued.set))
        held = budget.acquire(10, timeout=0)
        events: list[str] = []

        async def waiter() -> None:
            async with budget.reserve_async(5, timeout=60):
                events.append("granted")

        task = asyncio.create_task(waiter())
        await queued.wait()
        events.append("queued")
        await asyncio.to_thread(budget.release, held)
        await task
        assert budget.used == 0
        budget.acquire(10, timeout=0)
        with pytest.raises(BudgetBusyError):
            await budget.acquire_async(1, timeout=0)
        assert budget.waiting == 0
        return events

    # In a thread of its own: the browser tests' Playwright keeps an event loop running in the
    # main thread for the whole session, and asyncio.run refuses to start inside one.
    with ThreadPoolExecutor(max_workers=1) as runner:
        assert runner.submit(asyncio.run, scenario()).result() == ["queued", "granted"]


def test_the_process_pool_keeps_order_under_a_budget_smaller_than_two_files(
    tmp_path: Path,
) -> None:
    paths = []
    for number in range(4):
        path = tmp_path / f"{number}.png"
        textured_image(900, 700, seed=number).save(path)
        paths.append(path)
    options = HashOptions(types=("pdq",))
    # A budget of one byte: each file runs alone, one after the other, and all are hashed.
    results = list(hash_files(paths, options, jobs=2, budget=1))
    assert [r.path for r in results] == [str(p) for p in paths]
    assert all(r.ok for r in results)
    alone = [[s.value for s in hash_file(p, options).signals] for p in paths]
    assert [[s.value for s in r.signals] for r in results] == alone


def test_work_that_needs_no_memory_never_waits() -> None:
    budget = MemoryBudget(100)
    held = budget.acquire(100, timeout=0)
    assert budget.acquire(0, timeout=0) == 0
    budget.release(held)
