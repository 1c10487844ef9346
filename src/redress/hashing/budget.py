"""A process-wide memory budget: a weighted semaphore that work reserves its estimated peak
memory from before it starts, so the sum of what runs at once stays under a stated total.

Waiters are served first come, first served (a large reservation is not starved by a stream of
small ones), and every wait is bounded: past its timeout a reservation is refused, and the caller
answers "busy, retry later" instead of queueing without end. Threads wait with `acquire`;
asyncio code awaits `acquire_async`, which parks no thread while it waits.
"""

from __future__ import annotations

import asyncio
import ctypes
import ctypes.util
import threading
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field


class BudgetBusyError(Exception):
    """The budget stayed full for the whole wait; try again later."""


@dataclass(eq=False, slots=True)
class _Waiter:
    amount: int
    wake: Callable[[], None]
    granted: bool = field(default=False)


class MemoryBudget:
    """`total` bytes shared by everything that reserves from it.

    A reservation larger than the total is clamped to the total (it then runs alone): callers
    refuse such work before reserving (a per-file limit at most the total), so this only guards.
    `on_wait` is called (under the lock) whenever a reservation has to queue; tests use it.
    """

    def __init__(self, total: int, *, on_wait: Callable[[int], None] | None = None) -> None:
        if total <= 0:
            raise ValueError("a memory budget must be positive")
        self.total = total
        self._used = 0
        self._lock = threading.Lock()
        self._queue: deque[_Waiter] = deque()
        self._on_wait = on_wait

    @property
    def used(self) -> int:
        """Bytes reserved now."""
        with self._lock:
            return self._used

    @property
    def waiting(self) -> int:
        """Reservations queued now."""
        with self._lock:
            return len(self._queue)

    def _clamp(self, amount: int) -> int:
        return max(0, min(amount, self.total))

    def _try(self, amount: int) -> bool:
        if amount == 0:
            return True  # work that needs no memory (a file refused from its header) never waits
        if not self._queue and self._used + amount <= self.total:
            self._used += amount
            return True
        return False

    def _grant_waiters(self) -> None:
        while self._queue and self._used + self._queue[0].amount <= self.total:
            waiter = self._queue.popleft()
            self._used += waiter.amount
            waiter.granted = True
            waiter.wake()

    def _withdraw(self, waiter: _Waiter) -> bool:
        """Take a timed-out waiter out of the queue; True if it was granted meanwhile."""
        with self._lock:
            if waiter.granted:
                return True
            self._queue.remove(waiter)
            self._grant_waiters()  # a big waiter at the head may have held smaller ones back
            return False

    def acquire(self, amount: int, timeout: float) -> int:
        """Reserve `amount` bytes, waiting up to `timeout` seconds; returns what was reserved
        (pass it to `release`). Raises `BudgetBusyError` if the budget stayed full."""
        amount = self._clamp(amount)
        event = threading.Event()
        with self._lock:
            if self._try(amount):
                return amount
            waiter = _Waiter(amount, event.set)
            self._queue.append(waiter)
            if self._on_wait is not None:
                self._on_wait(amount)
        if event.wait(timeout) or self._withdraw(waiter):
            return amount
        raise BudgetBusyError

    async def acquire_async(self, amount: int, timeout: float) -> int:
        """`acquire` for asyncio: waits on the event loop, not in a thread."""
        amount = self._clamp(amount)
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()

        def wake() -> None:
            loop.call_soon_threadsafe(_resolve, future)

        with self._lock:
            if self._try(amount):
                return amount
            waiter = _Waiter(amount, wake)
            self._queue.append(waiter)
            if self._on_wait is not None:
                self._on_wait(amount)
        try:
            await asyncio.wait_for(asyncio.shield(future), timeout)
        except TimeoutError:
            if self._withdraw(waiter):
                return amount
            raise BudgetBusyError from None
        except asyncio.CancelledError:
            if self._withdraw(waiter):
                self.release(amount)
            raise
        return amount

    def release(self, amount: int) -> None:
        """Give back bytes a reservation took, and start the waiters that now fit."""
        with self._lock:
            self._used -= amount
            self._grant_waiters()

    @contextmanager
    def reserve(self, amount: int, timeout: float) -> Iterator[int]:
        """`acquire` for the duration of a `with` block."""
        taken = self.acquire(amount, timeout)
        try:
            yield taken
        finally:
            self.release(taken)

    @asynccontextmanager
    async def reserve_async(self, amount: int, timeout: float) -> AsyncIterator[int]:
        """`acquire_async` for the duration of an `async with` block."""
        taken = await self.acquire_async(amount, timeout)
        try:
            yield taken
        finally:
            self.release(taken)


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


def _glibc() -> ctypes.CDLL | None:
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name) if name else None
    except OSError:
        return None
    return libc if libc is not None and hasattr(libc, "malloc_trim") else None


_LIBC = _glibc()


def return_free_memory() -> None:
    """Give memory freed after a large decode back to the operating system.

    glibc keeps freed blocks of a few MB (Pillow's image blocks) in its per-thread arenas, so
    without this an agent that hashed a burst of large images stays at its peak size.
    """
    if _LIBC is not None:
        _LIBC.malloc_trim(0)
