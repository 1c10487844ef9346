"""The memory budget at its edges, where mutation testing found no test looking: a waiter that
fits exactly, amounts below zero and above the total, what `on_wait` is told, a cancelled async
waiter (withdrawn, letting the one behind it go, or giving back what it was granted), and the
budget's own bounds. Concurrency is ordered by callbacks and cancellation, never by sleeping."""

from __future__ import annotations

import asyncio
import json
import os
import platform
import subprocess
import sys
import threading
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

import pytest

import redress
from redress.hashing import budget
from redress.hashing.budget import BudgetBusyError, MemoryBudget

T = TypeVar("T")


def run(scenario: Callable[[], Awaitable[T]]) -> T:
    """asyncio.run in a thread of its own (the browser tests keep a loop in the main thread)."""

    async def main() -> T:
        return await scenario()

    with ThreadPoolExecutor(max_workers=1) as runner:
        return runner.submit(asyncio.run, main()).result()


@pytest.mark.parametrize("total", [0, -1])
def test_a_budget_must_be_positive(total: int) -> None:
    with pytest.raises(ValueError) as caught:
        MemoryBudget(total)
    assert str(caught.value) == "a memory budget must be positive"
    assert MemoryBudget(1).total == 1


def test_amounts_are_clamped_between_zero_and_the_total() -> None:
    told: list[int] = []
    budget = MemoryBudget(100, on_wait=told.append)
    assert budget.acquire(-5, timeout=0) == 0  # nothing below zero is reserved...
    assert budget.used == 0
    assert budget.acquire(100, timeout=0) == 100  # ...and the whole total fits exactly
    assert budget.used == 100 and budget.waiting == 0
    with pytest.raises(BudgetBusyError):
        budget.acquire(500, timeout=0)  # queued as the total (it would run alone), then refused
    assert told == [100] and budget.waiting == 0
    budget.release(100)
    assert budget.used == 0


def test_a_waiter_that_fits_exactly_is_started() -> None:
    queued = threading.Semaphore(0)
    told: list[int] = []

    def on_wait(amount: int) -> None:
        told.append(amount)
        queued.release()

    budget = MemoryBudget(100, on_wait=on_wait)
    first = budget.acquire(70, timeout=0)
    second = budget.acquire(30, timeout=0)
    got: list[int] = []
    waiter = threading.Thread(target=lambda: got.append(budget.acquire(70, timeout=60)))
    waiter.start()
    assert queued.acquire(timeout=60)
    assert told == [70] and budget.waiting == 1
    budget.release(first)  # 30 + 70 == 100: starts now
    waiter.join(60)
    assert got == [70] and budget.used == 100 and budget.waiting == 0
    budget.release(second)
    budget.release(70)
    assert budget.used == 0


def test_a_cancelled_async_waiter_lets_the_one_behind_it_go() -> None:
    async def scenario() -> tuple[int, int, int]:
        budget = MemoryBudget(100)
        held = budget.acquire(60, timeout=0)
        big = asyncio.create_task(budget.acquire_async(90, timeout=60))
        small = asyncio.create_task(budget.acquire_async(30, timeout=60))
        while budget.waiting < 2:  # let both tasks run to their wait (no time passes)
            await asyncio.sleep(0)
        big.cancel()  # 30 fits beside the 60 held: only the 90 ahead of it held it back
        with pytest.raises(asyncio.CancelledError):
            await big
        got = await small
        used = budget.used
        budget.release(got)
        budget.release(held)
        return got, used, budget.used

    assert run(scenario) == (30, 90, 0)


def test_an_async_waiter_cancelled_after_its_grant_gives_the_memory_back() -> None:
    async def scenario() -> tuple[int, int, int]:
        budget = MemoryBudget(100)
        held = budget.acquire(100, timeout=0)
        task = asyncio.create_task(budget.acquire_async(40, timeout=60))
        while budget.waiting < 1:
            await asyncio.sleep(0)
        budget.release(held)  # grants the waiter: 40 reserved on its behalf...
        granted = budget.used
        task.cancel()  # ...but it is cancelled before it resumes
        with pytest.raises(asyncio.CancelledError):
            await task
        return granted, budget.used, budget.waiting

    assert run(scenario) == (40, 0, 0)


def test_an_async_reservation_that_fits_needs_no_wait_and_one_that_never_fits_is_refused() -> None:
    async def scenario() -> tuple[int, int, int, int]:
        told: list[int] = []
        budget = MemoryBudget(100, on_wait=told.append)
        taken = await budget.acquire_async(100, timeout=0)
        with pytest.raises(BudgetBusyError):
            await budget.acquire_async(250, timeout=0)
        assert told == [100]
        budget.release(taken)
        async with budget.reserve_async(-3, timeout=0) as none:
            inside = budget.used
        return taken, none, inside, budget.waiting

    assert run(scenario) == (100, 0, 0, 0)


def test_a_waiter_that_does_not_fit_keeps_waiting_behind_one_that_fits_exactly() -> None:
    queued = threading.Semaphore(0)
    budget = MemoryBudget(100, on_wait=lambda _amount: queued.release())
    first = budget.acquire(70, timeout=0)
    second = budget.acquire(30, timeout=0)
    got: list[int] = []
    exact = threading.Thread(target=lambda: got.append(budget.acquire(70, timeout=60)))
    exact.start()
    assert queued.acquire(timeout=60)
    over = threading.Thread(target=lambda: got.append(budget.acquire(40, timeout=60)))
    over.start()
    assert queued.acquire(timeout=60)
    budget.release(first)  # 30 + 70 fit exactly; 40 more would not
    assert budget.used == 100 and budget.waiting == 1
    exact.join(60)
    budget.release(second)  # 70 + 40 still over
    assert budget.used == 70 and budget.waiting == 1
    budget.release(70)
    over.join(60)
    assert got == [70, 40] and budget.used == 40 and budget.waiting == 0


TRIM = """
import json, sys
import psutil
from redress.hashing.budget import return_free_memory
process = psutil.Process()
# 200 MB in 4 KB blocks from malloc, then all freed but the last: the free space sits below a
# block in use, so glibc cannot give it back by itself.
blocks = [bytearray(4096) for _ in range(50_000)]
sentinel = bytearray(4096)
del blocks
before = process.memory_info().rss
return_free_memory()
print(json.dumps([before, process.memory_info().rss, len(sentinel)]))
"""


def test_return_free_memory_gives_freed_heap_back_to_the_system() -> None:
    pytest.importorskip("psutil")
    if platform.libc_ver()[0] != "glibc":
        pytest.skip("malloc_trim is glibc's")
    # A fresh interpreter (the C library is looked up when the module is imported), with the
    # very copy of redress this test imports.
    env = {**os.environ, "PYTHONPATH": str(Path(redress.__file__).parents[1])}
    done = subprocess.run(
        [sys.executable, "-c", TRIM], env=env, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    before, after, _ = json.loads(done.stdout)
    assert before - after > 100 * 2**20, (before, after)
    # The same here: the lookup finds glibc's malloc_trim, and trimming is harmless to repeat.
    assert budget._glibc() is not None
    budget.return_free_memory()
