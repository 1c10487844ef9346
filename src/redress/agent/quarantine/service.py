"""The flood safeguard: a bank signal that matches abnormally many distinct uploads is
quarantined on this agent and reported to its hub.

Why: a hash that got into a hub by a malicious submission, or the hash of a near-featureless
picture (a black frame, a blank page), matches huge numbers of unrelated uploads. Blocking or
queueing all of them harms users and drowns moderators. Real NCII re-shared on a platform is
matched by few *distinct* pieces of content (the same file again and again, a handful of
re-encodings), so the count that separates the two is distinct content per signal per time.

How it counts:
- Per bank signal (hub, type, value), the distinct uploads it matched within a sliding window
  (`REDRESS_AGENT_QUARANTINE_WINDOW_SECONDS`, default one hour). An upload is identified by its
  content: the SHA-256 (else MD5) the agent computed of an uploaded file, or that a JSON check
  sent; else the JSON check's `content_id`; else the query hashes themselves. The same content
  checked again refreshes its time but is counted once, so a genuine image re-uploaded many
  times never trips the safeguard.
- The window is exact: each (signal, upload) pair keeps the time it was last seen and counts
  while that is inside the window. Memory stays bounded: a signal's set never holds more than
  `threshold + 1` live entries (past that it is quarantined and no longer counted), and expired
  entries are dropped at every flush.
- When a signal matches more than `REDRESS_AGENT_QUARANTINE_DISTINCT` (default 100) distinct
  uploads within the window, the upload that tipped it over and every later one see the match
  listed with `"quarantined": true`; it no longer makes the decision `block` or `review`, no
  review is queued and no verdict is sent for it. 100 distinct files an hour, all matching one
  hash, is far beyond what a re-share campaign against one person produces on one platform,
  and far below what a degenerate hash produces on a busy one (thousands an hour at the
  agent's ~2,300 checks/s); both settings are there to tune it, 0 turns it off.
- Counting happens in memory under one lock, and only for checks that matched something (the
  hot path of a check without matches is untouched; with matches it is a dictionary update).
  A background thread saves the changed pairs every `REDRESS_AGENT_QUARANTINE_FLUSH_SECONDS`
  (default 5) and on shutdown, and a restart loads the pairs still inside the window: counts
  survive restarts (a crash loses at most one flush interval). The stored keys are truncated
  BLAKE2b digests: the agent's database holds no hash or id of the platform's uploads here.
- Each quarantine is a row (`agent_quarantine`: when, the count, threshold and window) and a
  report in the feedback outbox (`Overmatching`), delivered to the hub's `/v1/overmatching`
  with the outbox's retries. Operators list and release quarantines (`GET /v1/quarantine`,
  `redress agent quarantine list|release`); a release resets the signal's count.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from prometheus_client import CollectorRegistry, Counter, Gauge
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from redress.agent.errors import AgentError
from redress.agent.events import EventKind, record_event
from redress.agent.outbox.models import Outbox
from redress.agent.outbox.service import OVERMATCHING, enqueue
from redress.agent.quarantine import reports
from redress.agent.quarantine.keys import signal_key, upload_key
from redress.agent.quarantine.models import QuarantinedSignal, Sighting
from redress.core.clock import Clock, SystemClock

if TYPE_CHECKING:  # check's service imports the bank; the types only
    from redress.agent.check.service import CheckResult, Match

LOGGER = logging.getLogger("redress.agent.quarantine")
_CHUNK = 500
__all__ = ["OVERMATCHING", "Quarantine", "QuarantineCode", "signal_key", "upload_key"]


def _at(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


class QuarantineCode(StrEnum):
    """Why a release is refused."""

    NO_SUCH_QUARANTINE = "no_such_quarantine"
    ALREADY_RELEASED = "already_released"


class Quarantine:
    """Counts distinct uploads per signal, quarantines the ones that flood, keeps it saved."""

    def __init__(
        self,
        transaction: Callable[[], AbstractContextManager[Session]],
        registry: CollectorRegistry,
        *,
        threshold: int,
        window_seconds: float,
        flush_seconds: float = 5.0,
        clock: Clock | None = None,
    ) -> None:
        self.transaction = transaction
        self.threshold = threshold
        self.window = window_seconds
        self.flush_seconds = flush_seconds
        self.clock: Clock = clock or SystemClock()  # wall-clock time: counts outlive the process
        self._seen: dict[str, dict[str, float]] = {}
        self._dirty: set[tuple[str, str]] = set()
        self._quarantined: dict[str, int] = {}  # signal key -> its quarantine row
        self._lock = threading.Lock()
        self._write_lock = threading.Lock()  # a flush and a release do not interleave
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.gauge = Gauge(
            "redress_agent_quarantined_signals",
            "Bank signals quarantined for matching too many distinct uploads",
            registry=registry,
        )
        self.events = Counter(
            "redress_agent_quarantine_events_total",
            "Signals quarantined and released",
            ["event"],
            registry=registry,
        )
        for event in ("quarantined", "released"):
            self.events.labels(event)
        self._load()

    def _time(self) -> float:
        return self.clock.now().timestamp()

    # --- lifecycle -------------------------------------------------------------------------

    def _load(self) -> None:
        horizon = _at(self._time() - self.window)
        with self.transaction() as session:
            session.execute(delete(Sighting).where(Sighting.seen_at < horizon))
            for row in session.scalars(select(Sighting)):
                upload = row.pair[len(row.signal_key) :]
                self._seen.setdefault(row.signal_key, {})[upload] = row.seen_at.timestamp()
            for entry in session.scalars(
                select(QuarantinedSignal).where(QuarantinedSignal.released_at.is_(None))
            ):
                self._quarantined[entry.signal_key] = entry.id
        self.gauge.set(len(self._quarantined))

    def start(self) -> None:
        """Save the counts periodically, on a daemon thread."""
        self._thread = threading.Thread(target=self._run, name="quarantine", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop the thread and save what is left."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
        try:
            self.flush()
        except Exception:  # shutting down must go on; at most one interval of counting is lost
            LOGGER.exception("saving the quarantine counts at shutdown failed")

    def _run(self) -> None:
        while not self._stop.wait(self.flush_seconds):
            try:
                self.flush()
            except Exception:  # the loop must survive a bad moment of the database
                LOGGER.exception("saving the quarantine counts failed; retrying")

    # --- the check path --------------------------------------------------------------------

    def mark(self, matches: list[Match]) -> list[Match]:
        """`matches` with the quarantined ones flagged (they then drive no decision)."""
        if not self._quarantined or not matches:
            return matches
        return [
            dataclasses.replace(match, quarantined=True)
            if signal_key(match.hub, match.type, match.value) in self._quarantined
            else match
            for match in matches
        ]

    def observe(self, result: CheckResult, content_id: str | None) -> bool:
        """Count this upload for every signal it matched; quarantine the ones it tipped over
        the threshold (flagging them in `result`). True if any was quarantined now."""
        if not self.threshold or not result.matches:
            return False
        upload = upload_key(result.signals, content_id)
        moment = self._time()
        tipped: list[tuple[Match, str, int]] = []
        with self._lock:
            for match in result.matches:
                if match.quarantined:
                    continue
                key = signal_key(match.hub, match.type, match.value)
                if key in self._quarantined:  # quarantined since this check's `mark`
                    tipped.append((match, key, 0))
                    continue
                seen = self._seen.setdefault(key, {})
                seen[upload] = moment
                self._dirty.add((key, upload))
                if len(seen) > self.threshold:
                    self._expire(seen, moment)  # only now: the common case stays O(1)
                    if len(seen) > self.threshold:
                        self._quarantined[key] = 0  # claimed: a racing thread skips it
                        tipped.append((match, key, len(seen)))
        if not tipped:
            return False
        self._quarantine([t for t in tipped if t[2]], moment)
        flagged = {key for _, key, _ in tipped}
        result.matches = [
            dataclasses.replace(m, quarantined=True)
            if signal_key(m.hub, m.type, m.value) in flagged
            else m
            for m in result.matches
        ]
        return True

    def _expire(self, seen: dict[str, float], moment: float) -> None:
        horizon = moment - self.window
        for upload in [u for u, at in seen.items() if at < horizon]:
            del seen[upload]

    def _quarantine(self, tipped: list[tuple[Match, str, int]], moment: float) -> None:
        try:
            rows = self._save_quarantines(tipped, moment)
        except Exception:
            with self._lock:  # not quarantined after all: a later upload tries again
                for _, key, _ in tipped:
                    self._quarantined.pop(key, None)
            raise
        with self._lock:
            for row in rows:
                self._quarantined[row.signal_key] = row.id
                self._seen.pop(row.signal_key, None)  # counting starts afresh on release
            self.gauge.set(len(self._quarantined))
        for row in rows:
            self.events.labels("quarantined").inc()
            LOGGER.warning(
                "quarantined signal %d of hub %s (%s): %d distinct uploads within %.0fs",
                row.id,
                row.hub,
                row.signal_type,
                row.distinct_uploads,
                self.window,
            )

    def _save_quarantines(
        self, tipped: list[tuple[Match, str, int]], moment: float
    ) -> list[QuarantinedSignal]:
        """A row and an outbox report per signal, in one transaction."""
        rows = []
        with self.transaction() as session:
            for match, key, count in tipped:
                row = QuarantinedSignal(
                    signal_key=key,
                    hub=match.hub,
                    signal_type=match.type,
                    signal_value=match.value,
                    distinct_uploads=count,
                    threshold=self.threshold,
                    window_seconds=self.window,
                    quarantined_at=_at(moment),
                )
                session.add(row)
                enqueue(
                    session,
                    clock=self.clock,
                    hub=match.hub,
                    kind=match.type,
                    value=match.value,
                    feedback=OVERMATCHING,
                )
                rows.append(row)
            session.flush()
            for row in rows:
                record_event(
                    session,
                    clock=self.clock,
                    kind=EventKind.QUARANTINE_ON,
                    subject=f"quarantine:{row.id}",
                    hub=row.hub,
                    type=row.signal_type,
                    distinct_uploads=row.distinct_uploads,
                    threshold=row.threshold,
                    window_seconds=row.window_seconds,
                )
        return rows

    # --- persistence -----------------------------------------------------------------------

    def flush(self) -> None:
        """Save the pairs seen since the last flush; drop the ones out of the window."""
        with self._write_lock:
            moment = self._time()
            with self._lock:
                dirty, self._dirty = self._dirty, set()
                rows = [
                    (key, upload, self._seen[key][upload])
                    for key, upload in dirty
                    if upload in self._seen.get(key, {})
                ]
                for key in list(self._seen):
                    self._expire(self._seen[key], moment)
                    if not self._seen[key]:
                        del self._seen[key]
            try:
                self._write(rows, moment)
            except Exception:
                with self._lock:  # saved next time instead
                    self._dirty |= dirty
                raise

    def _write(self, rows: list[tuple[str, str, float]], moment: float) -> None:
        with self.transaction() as session:
            for start in range(0, len(rows), _CHUNK):
                chunk = rows[start : start + _CHUNK]
                pairs = [key + upload for key, upload, _ in chunk]
                session.execute(delete(Sighting).where(Sighting.pair.in_(pairs)))
                session.add_all(
                    Sighting(pair=key + upload, signal_key=key, seen_at=_at(at))
                    for key, upload, at in chunk
                )
                session.flush()
            session.execute(delete(Sighting).where(Sighting.seen_at < _at(moment - self.window)))

    # --- operators -------------------------------------------------------------------------

    def entries(self, include_released: bool = False) -> list[tuple[QuarantinedSignal, str | None]]:
        """Quarantines, newest first, each with when its report reached the hub (or None)."""
        with self.transaction() as session:
            return reports.listed(session, include_released=include_released)

    def release(self, entry_id: int, by: str) -> QuarantinedSignal:
        """Act on the signal's matches again, counting its uploads from zero."""
        with self._write_lock:
            with self.transaction() as session:
                row = session.get(QuarantinedSignal, entry_id)
                if row is None:
                    raise AgentError(
                        404,
                        QuarantineCode.NO_SUCH_QUARANTINE,
                        f"There is no quarantine {entry_id}.",
                    )
                if row.released_at is not None:
                    raise AgentError(
                        409,
                        QuarantineCode.ALREADY_RELEASED,
                        f"Quarantine {entry_id} was already released.",
                    )
                row.released_at = _at(self._time())
                row.released_by = by[:100]
                session.execute(delete(Sighting).where(Sighting.signal_key == row.signal_key))
                record_event(
                    session,
                    clock=self.clock,
                    kind=EventKind.QUARANTINE_OFF,
                    subject=f"quarantine:{row.id}",
                    hub=row.hub,
                    type=row.signal_type,
                )
            with self._lock:
                self._quarantined.pop(row.signal_key, None)
                self._seen.pop(row.signal_key, None)
                self._dirty = {pair for pair in self._dirty if pair[0] != row.signal_key}
                self.gauge.set(len(self._quarantined))
        self.events.labels("released").inc()
        LOGGER.info("released quarantined signal %d of hub %s", row.id, row.hub)
        return row

    def counted(self, hub: str, kind: str, value: str) -> int:
        """Distinct uploads the signal matched within the window (for operators and tests)."""
        moment = self._time()
        with self._lock:
            seen = self._seen.get(signal_key(hub, kind, value), {})
            return sum(1 for at in seen.values() if at >= moment - self.window)

    # --- reports to the hub ----------------------------------------------------------------

    def report_request(self, rows: Iterable[Outbox]) -> tuple[str, dict[str, Any]]:
        """The hub path and body that deliver these outbox reports."""
        with self.transaction() as session:
            return reports.report_request(
                session, rows=list(rows), threshold=self.threshold, window=self.window
            )
