"""Delivering the outbox: due feedback grouped per hub (verdicts and over-matching reports go
to different endpoints), posted, and the attempt recorded."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Mapping
from contextlib import AbstractContextManager
from typing import Any

import httpx
from sqlalchemy.orm import Session

from redress.agent.config import HubConfig
from redress.agent.metrics import Metrics
from redress.agent.outbox import service
from redress.agent.outbox.models import Outbox
from redress.core.clock import Clock

LOGGER = logging.getLogger("redress.agent")
Transaction = Callable[[], AbstractContextManager[Session]]
ReportRequest = Callable[[Iterable[Outbox]], tuple[str, dict[str, Any]]]


class OutboxWorker:
    """Sends due feedback to the hubs, on a thread woken by `wake()` or once a second."""

    def __init__(
        self,
        *,
        transaction: Transaction,
        clock: Clock,
        hubs: Mapping[str, HubConfig],
        metrics: Metrics,
        report_request: ReportRequest,
        housekeeping: Callable[[], None] = lambda: None,
    ) -> None:
        self.transaction = transaction
        self.clock = clock
        self.hubs = hubs
        self.metrics = metrics
        self.report_request = report_request
        self.housekeeping = housekeeping  # run about once a minute (media retention)
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    def wake(self) -> None:
        """Deliver now rather than at the next tick."""
        self._wake.set()

    def start(self) -> None:
        """Begin delivering (on a daemon thread)."""
        self._thread = threading.Thread(target=self._loop, name="outbox", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop delivering (a round in progress finishes)."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=30)

    def _loop(self) -> None:
        clients: dict[str, httpx.Client] = {}
        try:
            housekept_at = None
            while not self._stop.is_set():
                try:
                    self.deliver(clients)
                    moment = self.clock.now()
                    # Retention is counted in hours: once a minute is plenty.
                    if housekept_at is None or (moment - housekept_at).total_seconds() >= 60:
                        self.housekeeping()
                        housekept_at = moment
                except Exception:  # the loop must survive a bad moment of the database
                    LOGGER.exception("feedback delivery failed; retrying")
                self._wake.wait(1.0)
                self._wake.clear()
        finally:
            for client in clients.values():
                client.close()

    def deliver(self, clients: dict[str, httpx.Client]) -> int:
        """Send due feedback, up to 1,000 per hub per round; returns how many were acknowledged."""
        acknowledged = 0
        with self.transaction() as session:
            due = service.due(session, clock=self.clock)
        by_hub: dict[tuple[str, bool], list[Outbox]] = {}
        for row in due:  # verdicts and over-matching reports go to different endpoints
            by_hub.setdefault((row.hub, row.feedback == service.OVERMATCHING), []).append(row)
        for (name, report), rows in by_hub.items():
            hub = self.hubs.get(name)
            if hub is None:
                continue
            client = clients.get(name)
            if client is None:
                client = clients[name] = httpx.Client(
                    base_url=hub.url, headers={"Authorization": f"Bearer {hub.key}"}, timeout=15.0
                )
            if report:
                path, body = self.report_request(rows)
            else:
                path, body = service.verdicts_request(rows)
            error: str | None = None
            try:
                response = client.post(path, json=body)
                if response.status_code != 200:
                    error = f"hub answered {response.status_code}: {response.text[:200]}"
            except httpx.HTTPError as exc:
                error = f"{type(exc).__name__}: {exc}"[:300]
            with self.transaction() as session:
                acknowledged += service.record_attempt(
                    session, clock=self.clock, hub=name, ids=[r.id for r in rows], error=error
                )
            if error is not None:
                LOGGER.warning("feedback to hub %s not delivered: %s", name, error)
        with self.transaction() as session:
            self.metrics.outbox.set(service.pending_count(session))
        return acknowledged
