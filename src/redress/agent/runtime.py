"""One running agent: its settings, clock, database, metrics, the followers of its hubs, the
negative bank, the flood safeguard and the outbox worker, started and stopped together. The
routers (`*/api.py`) reach it as `request.app.state.agent`; the work itself is in the domain
services it calls."""

from __future__ import annotations

import contextlib
import logging
import secrets
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from redress.agent.auth import AgentToken
from redress.agent.check import service as check
from redress.agent.check.service import CheckResult, decide
from redress.agent.config import AgentSettings, HubConfig
from redress.agent.metrics import Metrics
from redress.agent.negative.service import NegativeBank
from redress.agent.outbox.worker import OutboxWorker
from redress.agent.quarantine.service import Quarantine
from redress.agent.review import service as review
from redress.agent.review.models import Review
from redress.agent.sync.service import HubFollower
from redress.config import get_settings, with_limits
from redress.core.clock import Clock, SystemClock
from redress.db import make_engine, make_session_factory, unit_of_work
from redress.hashing.budget import MemoryBudget
from redress.hashing.files import HashOptions, SignalRecord

LOGGER = logging.getLogger("redress.agent")


class Agent:
    """One platform agent: its hubs, database, indexes and background work. The database must
    be migrated (`redress agent db upgrade`) before."""

    def __init__(
        self, settings: AgentSettings, hubs: Sequence[HubConfig], *, clock: Clock | None = None
    ) -> None:
        self.settings = settings
        self.clock: Clock = clock or SystemClock()
        self.state_dir = Path(settings.state_dir)
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self.engine = make_engine(settings.database_url)
        self.sessions: sessionmaker[Session] = make_session_factory(self.engine)
        self.metrics = Metrics()
        self.hubs = {hub.name: hub for hub in hubs}
        self.followers = {
            hub.name: HubFollower(
                hub,
                settings=settings,
                transaction=self.transaction,
                metrics=self.metrics,
                clock=self.clock,
                state_dir=self.state_dir,
            )
            for hub in hubs
        }
        self.token = settings.token or self._stored_token()
        self.token_check = AgentToken(self.token)
        self.budget = MemoryBudget(settings.memory_budget_mb << 20)
        # One upload may take at most what the whole budget holds, so it can always run alone.
        limits = with_limits(HashOptions(types=check.UPLOAD_TYPES, dihedral=True), get_settings())
        self.upload_options = replace(
            limits, max_decode_mb=min(limits.max_decode_mb, settings.memory_budget_mb)
        )
        self.negative = NegativeBank(transaction=self.transaction, clock=self.clock)
        self.negative.load()
        self.quarantine = Quarantine(
            self.transaction,
            self.metrics.registry,
            threshold=settings.quarantine_distinct,
            window_seconds=settings.quarantine_window_seconds,
            flush_seconds=settings.quarantine_flush_seconds,
            clock=self.clock,
        )
        self.outbox = OutboxWorker(
            transaction=self.transaction,
            clock=self.clock,
            hubs=self.hubs,
            metrics=self.metrics,
            report_request=self.quarantine.report_request,
            housekeeping=self.expire_media,
        )

    def _stored_token(self) -> str:
        path = self.state_dir / "agent-token"
        if not path.exists():
            path.write_text(secrets.token_urlsafe(32) + "\n", encoding="utf-8")
            path.chmod(0o600)
            LOGGER.warning("no REDRESS_AGENT_TOKEN set; generated one in %s", path)
        return path.read_text(encoding="utf-8").strip()

    def token_matches(self, token: str | None) -> bool:
        """Whether `token` is the agent's token (compared in constant time)."""
        return self.token_check.matches(token)

    def transaction(self) -> contextlib.AbstractContextManager[Session]:
        """One unit of work on the agent's database."""
        return unit_of_work(self.sessions)

    # --- lifecycle -------------------------------------------------------------------------

    def start(self) -> None:
        """Restore snapshots, start following every enabled hub and delivering feedback."""
        for follower in self.followers.values():
            follower.restore()
            if follower.hub.enabled:
                follower.start()
        self.outbox.start()
        self.quarantine.start()

    def stop(self) -> None:
        """Stop the threads and save every bank."""
        self.outbox.stop()
        for follower in self.followers.values():
            follower.stop()
            follower.maybe_snapshot(force=True)
        self.quarantine.stop()
        self.engine.dispose()

    def ready(self) -> tuple[bool, dict[str, str]]:
        """Ready when every enabled hub has been caught up with at least once."""
        status = {name: follower.status() for name, follower in self.followers.items()}
        ok = all(f.caught_up_once or not f.hub.enabled for f in self.followers.values())
        return ok, status

    # --- check -----------------------------------------------------------------------------

    def upload_cost(self, path: Path) -> int:
        """Memory hashing an uploaded file will take at its peak, from the file's header."""
        return check.upload_cost(path=path, options=self.upload_options)

    def json_cost(self, body_bytes: int) -> int:
        """Memory a JSON check of `body_bytes` may take (reserved before its body is read)."""
        return check.JSON_COST_PER_BYTE * body_bytes

    def hash_upload(self, path: Path) -> list[SignalRecord]:
        """Signals of an uploaded file (see `check.service.hash_upload`)."""
        return check.hash_upload(path=path, options=self.upload_options)

    def check(self, signals: Sequence[SignalRecord]) -> CheckResult:
        """Match `signals` (one piece of content) against every enabled hub's bank."""
        started = time.perf_counter()  # a latency measurement, not a moment: no clock
        if self.negative.matches(signals):
            result = CheckResult("allow", [], suppressed=True)
        else:
            found = check.match_banks(signals=signals, followers=self.followers.values())
            matches = self.quarantine.mark(found)
            result = CheckResult(decide(matches), matches, signals=signals)
        self.metrics.check_latency.observe(time.perf_counter() - started)
        self.metrics.decisions.labels(result.decision).inc()
        return result

    # --- reviews ---------------------------------------------------------------------------

    def record(self, result: CheckResult, content_id: str | None, media: Path | None) -> None:
        """Queue reviews (and PendingReview) or Blocked feedback for the matches of a check."""
        if not result.matches:
            return
        if self.quarantine.observe(result, content_id):  # this upload tipped a signal over
            result.decision = decide(result.matches)
        with self.transaction() as session:
            review.hold(
                session,
                clock=self.clock,
                result=result,
                content_id=content_id,
                media=media,
                media_dir=self.state_dir / "review-media",
            )
        self.outbox.wake()

    def decide(self, review_id: int, decision: str, moderator: str) -> Review:
        """A moderator's verdict on a held match: `Blocked` or `NotBlocked`; sent to the hub."""
        with self.transaction() as session:
            decided = review.decide(
                session,
                clock=self.clock,
                review_id=review_id,
                decision=decision,
                moderator=moderator,
            )
        self.outbox.wake()
        return decided

    def expire_media(self) -> None:
        """Delete held media older than the retention limit."""
        with self.transaction() as session:
            review.expire_media(
                session, clock=self.clock, retention_hours=self.settings.media_retention_hours
            )
