"""Following one hub: its feed (through `redress.feed.client`) applied to the agent's in-memory
bank of that hub, snapshots of the bank saved and restored, back-off when the hub fails."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import datetime
from pathlib import Path

import httpx
from sqlalchemy.orm import Session
from tenacity import RetryCallState, Retrying, retry_if_exception_type

from redress.agent.config import AgentSettings, HubConfig
from redress.agent.events import EventKind, record_event
from redress.agent.hub_index import HubIndex
from redress.agent.metrics import Metrics
from redress.agent.sync.models import HubState
from redress.core.backoff import FEED_WAIT
from redress.core.clock import Clock
from redress.core.errors import RedressError
from redress.feed.client import FeedClient
from redress.feed.wire import Block

LOGGER = logging.getLogger("redress.agent")
#: What a failed sync raises: the network, the hub's answer, the wire format.
SYNC_ERRORS = (httpx.HTTPError, ValueError, RedressError, RuntimeError)
Transaction = Callable[[], AbstractContextManager[Session]]


class HubFollower:
    """Keeps one hub's bank in step with its feed, on a thread, with back-off on errors."""

    def __init__(
        self,
        hub: HubConfig,
        *,
        settings: AgentSettings,
        transaction: Transaction,
        metrics: Metrics,
        clock: Clock,
        state_dir: Path,
        sleep: Callable[[float], None] | None = None,
    ) -> None:
        self.hub = hub
        self.settings = settings
        self.transaction = transaction
        self.metrics = metrics
        self.clock = clock
        self.state_dir = state_dir
        self.bank = HubIndex(hub.name)
        self.cursor = 0
        self.head = 0
        self.caught_up_once = False
        self.last_caught_up: datetime = clock.now()
        self.last_snapshot: datetime = clock.now()
        self.snapshot_cursor = 0
        self.failures = 0
        self.long_polled = False
        self.progressed = False
        self.last_error: str | None = None
        self._stop = threading.Event()
        self._sleep = sleep or self._pause
        self._thread: threading.Thread | None = None

    def _pause(self, seconds: float) -> None:
        self._stop.wait(seconds)  # a stop ends a back-off at once

    def restore(self) -> None:
        """Load the last snapshot, if any, and resume from its cursor."""
        with self.transaction() as session:
            state = session.get(HubState, self.hub.name)
            path = Path(state.snapshot) if state and state.snapshot else None
        if path is None:
            return
        try:
            self.cursor = self.snapshot_cursor = self.bank.load(path)
        except (OSError, ValueError) as exc:  # missing, damaged or from another version
            LOGGER.warning(
                "hub %s: snapshot %s unusable (%s); fetching the whole feed again",
                self.hub.name,
                path,
                exc,
            )
            self.bank = HubIndex(self.hub.name)
            self.cursor = self.snapshot_cursor = 0
            return
        LOGGER.info("hub %s: bank restored at cursor %d", self.hub.name, self.cursor)

    def start(self) -> None:
        """Begin following (on a daemon thread)."""
        self._thread = threading.Thread(target=self._run, name=f"sync-{self.hub.name}", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop following. A long poll in progress is abandoned (the thread is a daemon): what
        it might still apply is re-applied from the saved cursor next time, harmlessly."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=1)

    def _run(self) -> None:
        with FeedClient(self.hub.url, self.hub.key) as client:
            while not self._stop.is_set():
                try:
                    more = self.sync_with_retries(client)
                except SYNC_ERRORS:  # only once stopping: every other failure is retried
                    break
                self.maybe_snapshot()
                if not more and not self.progressed and not self.long_polled:
                    self._stop.wait(self.settings.poll_seconds)

    def sync_with_retries(self, client: FeedClient) -> bool:
        """`sync_once`, retried with back-off (`FEED_WAIT`) until it succeeds or the follower
        stops (then the last error is raised)."""
        retrying = Retrying(
            retry=retry_if_exception_type(SYNC_ERRORS),
            wait=FEED_WAIT,
            stop=lambda _state: self._stop.is_set(),
            sleep=self._sleep,
            before_sleep=self._failed,
            reraise=True,
        )
        more: bool = retrying(self.sync_once, client)
        self.failures = 0
        self.last_error = None
        return more

    def _failed(self, state: RetryCallState) -> None:
        error = state.outcome.exception() if state.outcome else None
        self.failures = state.attempt_number
        self.last_error = f"{type(error).__name__}: {error}"[:300]
        self.metrics.sync_errors.labels(self.hub.name).inc()
        LOGGER.warning(
            "hub %s: sync failed (%s); retrying in %.1fs",
            self.hub.name,
            self.last_error,
            state.upcoming_sleep,
        )

    def sync_once(self, client: FeedClient) -> bool:
        """Fetch and apply one response of the compact feed; True if more is waiting."""
        settings = self.settings
        wait = settings.long_poll_seconds if self.caught_up_once else 0.0
        applied = [0]

        def apply(block: Block) -> None:
            self.bank.apply(block)
            applied[0] += len(block)

        page = client.read(self.cursor, limit=settings.feed_limit, wait=wait, apply=apply)
        self.long_polled = page.long_polled
        until, head = page.cursor, page.head
        self.progressed = until > self.cursor
        if self.progressed:
            with self.transaction() as session:
                record_event(
                    session,
                    clock=self.clock,
                    kind=EventKind.SYNC_APPLIED,
                    subject=f"hub:{self.hub.name}",
                    entries=applied[0],
                    cursor=until,
                    head=head,
                )
        self.cursor, self.head = until, head
        self._after_sync(until, head)
        return until < head

    def _after_sync(self, until: int, head: int) -> None:
        name = self.hub.name
        self.metrics.lag_entries.labels(name).set(max(0, head - until))
        for kind, count in self.bank.counts().items():
            self.metrics.index_size.labels(name, kind).set(count)
        self.metrics.index_bytes.labels(name).set(self.bank.pdq.memory_bytes())
        if self.bank.pdq.total_ids > 10_000 and self.bank.dead_share() > 0.25:
            self.bank = self.bank.compacted()  # checks read `self.bank` once: an atomic swap
            LOGGER.info("hub %s: bank compacted to %d signals", name, len(self.bank))
        if until >= head:
            self.caught_up_once = True
            self.last_caught_up = self.clock.now()
            if self.bank.pdq.delta_size > 4096:
                self.bank.pdq.merge(wait=False)
        behind = (self.clock.now() - self.last_caught_up).total_seconds()
        self.metrics.lag_seconds.labels(name).set(behind if until < head else 0)

    def maybe_snapshot(self, force: bool = False) -> None:
        """Save the bank if it moved and the snapshot interval passed (or `force`)."""
        elapsed = (self.clock.now() - self.last_snapshot).total_seconds()
        due = elapsed >= self.settings.snapshot_seconds
        if self.cursor == self.snapshot_cursor or not (due or force):
            return
        directory = self.state_dir / "banks"
        path = self.bank.save(directory, self.cursor)
        with self.transaction() as session:
            state = session.get(HubState, self.hub.name)
            old = state.snapshot if state else None
            if state is None:
                state = HubState(hub=self.hub.name)
                session.add(state)
            state.cursor, state.snapshot = self.cursor, str(path)
            state.updated_at = self.clock.now()
        if old and old != str(path):
            Path(old).unlink(missing_ok=True)
        self.snapshot_cursor = self.cursor
        self.last_snapshot = self.clock.now()

    def status(self) -> str:
        """One phrase for `/readyz`: disabled, caught up, syncing, or the first sync's progress."""
        if not self.hub.enabled:
            return "disabled"
        if self.caught_up_once:
            return "caught up" if self.cursor >= self.head else "syncing"
        return f"first sync: {self.cursor} of {self.head or '?'}" + (
            f" (last error: {self.last_error})" if self.last_error else ""
        )
