"""Time as an object passed in, so lock-outs and rate-limit windows can be tested by moving a
clock instead of sleeping."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    """Something that tells the time (timezone-aware, UTC)."""

    def now(self) -> datetime:
        """The current moment."""
        ...


class SystemClock:
    """The real time."""

    def now(self) -> datetime:
        """The current moment from the system clock."""
        return datetime.now(UTC)


class ManualClock:
    """A clock that stands still until moved (for tests and simulations)."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime(2026, 1, 1, tzinfo=UTC)
        self._lock = threading.Lock()

    def now(self) -> datetime:
        """The moment the clock was last set to."""
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> None:
        """Move the clock forward by `seconds`."""
        with self._lock:
            self._now += timedelta(seconds=seconds)


def timestamp(clock: Clock) -> float:
    """The clock's time as Unix seconds (what the counters store)."""
    return clock.now().timestamp()
