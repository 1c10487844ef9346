"""Retry back-off, from one library (tenacity): how long to wait after failures in a row.

A retry loop that sleeps hands a wait to `tenacity.Retrying` (with its own `sleep`, so a test or
a stopping thread need not wait); a schedule kept in a database (the agent's outbox) asks
`wait_after` for the delay and stores the moment."""

from __future__ import annotations

import random
from collections.abc import Callable

from tenacity import RetryCallState, Retrying
from tenacity.wait import wait_base, wait_exponential


class wait_jittered(wait_base):  # noqa: N801  (tenacity's naming of waits)
    """`inner`'s wait times a random factor in [low, high]: clients that failed together do
    not all retry at the same moment."""

    def __init__(
        self,
        inner: wait_base,
        low: float,
        high: float,
        uniform: Callable[[float, float], float] = random.uniform,
    ) -> None:
        self.inner, self.low, self.high, self.uniform = inner, low, high, uniform

    def __call__(self, retry_state: RetryCallState) -> float:
        """The inner wait, scaled."""
        return self.inner(retry_state) * self.uniform(self.low, self.high)


#: Following a feed: 1 s after the first failure, doubling up to 60 s, each within ±20 %.
FEED_WAIT = wait_jittered(wait_exponential(multiplier=1, max=60), 0.8, 1.2)
#: Delivering feedback: 2 s after the first failed attempt, doubling up to an hour.
OUTBOX_WAIT = wait_exponential(multiplier=2, max=3600)


def wait_after(wait: wait_base, failures: int) -> float:
    """Seconds `wait` gives after `failures` (at least 1) failed attempts in a row."""
    state = RetryCallState(Retrying(), None, (), {})
    state.attempt_number = max(1, failures)
    return float(wait(state))
