"""The agent's core: the banks, `check`, the review queue, the feedback outbox, the negative
bank, and the background threads that sync feeds and deliver feedback."""

from __future__ import annotations

import contextlib
import logging
import random
import secrets
import shutil
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import numpy as np
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from redress.agent.config import AgentSettings, HubConfig
from redress.agent.hub_index import HubHit as BankHit
from redress.agent.hub_index import HubIndex as HubBank
from redress.agent.models import AgentBase, HubState, NegativeSignal, Outbox, Review
from redress.agent.quarantine import OVERMATCHING, Quarantine
from redress.config import get_settings, with_limits
from redress.core.errors import RedressError
from redress.db import make_engine, make_session_factory, unit_of_work
from redress.feed.wire import decode_block, iter_frames
from redress.hashing.budget import MemoryBudget, return_free_memory
from redress.hashing.errors import InvalidSignalError
from redress.hashing.files import HashOptions, SignalRecord, estimate_cost, hash_file
from redress.hashing.signal_types import VpdqSignal, get_signal_type
from redress.matching import ExactIndex, PdqIndex
from redress.matching.pdq_index import bytes_to_words, pdq_hex_to_bytes

LOGGER = logging.getLogger("redress.agent")
FEEDBACK = ("PendingReview", "Blocked", "NotBlocked")
UPLOAD_TYPES = ("pdq", "vpdq", "md5", "sha256")


class AgentError(RedressError):
    """A request the agent refuses (the shape is `RedressError`'s)."""


class AgentBusyError(AgentError):
    """The memory budget stayed full for the whole wait: 503, to be retried after a pause."""

    def __init__(self, retry_after: int, budget_mb: int) -> None:
        super().__init__(
            503,
            "busy",
            f"The agent is hashing as much as its memory budget ({budget_mb} MB, "
            f"REDRESS_AGENT_MEMORY_BUDGET_MB) allows; retry in {retry_after} s.",
            retry_after=retry_after,
        )


#: Memory a JSON check takes per byte of its body: parsed objects, vPDQ frames and their search.
JSON_COST_PER_BYTE = 32


def now() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class Match:
    """A bank signal that matched the content checked."""

    hub: str
    type: str
    value: str
    items: tuple[str, ...]
    distance: int | None
    action: str
    segments: list[tuple[float, float]] | None = None
    quarantined: bool = False  # matched too many distinct uploads: reported, not acted on


@dataclass(slots=True)
class CheckResult:
    """What `check` answers."""

    decision: str
    matches: list[Match]
    reviews: list[int] = field(default_factory=list)
    suppressed: bool = False
    signals: Sequence[SignalRecord] = ()  # what was checked (the quarantine counts by it)


def decide(matches: Sequence[Match]) -> str:
    """The strictest action among the matches that are not quarantined."""
    decision = "allow"
    for match in matches:
        if match.quarantined:
            continue
        if match.action == "block":
            decision = "block"
        elif match.action == "review" and decision == "allow":
            decision = "review"
    return decision


def validate_signals(raw: Sequence[dict[str, object]]) -> list[SignalRecord]:
    """Normalised signals from a request body; a bad one is refused with its position."""
    records = []
    for number, signal in enumerate(raw, start=1):
        kind, value = signal.get("type"), signal.get("value")
        if not isinstance(kind, str) or not isinstance(value, str):
            raise AgentError(422, "invalid_signal", f"signal {number}: needs 'type' and 'value'")
        try:
            signal_type = get_signal_type(kind)
            records.append(SignalRecord(signal_type.name, signal_type.normalize(value)))
        except InvalidSignalError as exc:
            raise AgentError(422, "invalid_signal", f"signal {number}: {exc.message}") from None
    if not records:
        raise AgentError(422, "no_signals", "Send at least one signal (or a file).")
    return records


def check_vpdq_bounds(raw: Sequence[dict[str, object]], max_signals: int, max_frames: int) -> None:
    """Refuse a check whose vPDQ signals are too many or too long, before parsing any frame."""
    vpdq = [s.get("value") for s in raw if str(s.get("type", "")).lower() == "vpdq"]
    if len(vpdq) > max_signals:
        raise AgentError(
            413,
            "too_many_vpdq_signals",
            f"A check may hold at most {max_signals} vPDQ signals (one video needs one); "
            f"this one has {len(vpdq)}. Send the others separately, or raise "
            "REDRESS_AGENT_MAX_VPDQ_SIGNALS.",
        )
    for number, value in enumerate(vpdq, start=1):
        frames = value.count("\n") + value.count(";") + 1 if isinstance(value, str) else 0
        if frames > max_frames:
            raise AgentError(
                413,
                "vpdq_too_long",
                f"vPDQ signal {number} has about {frames:,} frames, over the limit of "
                f"{max_frames:,} (REDRESS_AGENT_MAX_VPDQ_FRAMES); hash one frame a second.",
            )


class Metrics:
    """Prometheus metrics of one agent (its own registry, so agents can share a process)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.index_size = Gauge(
            "redress_agent_index_signals", "Live signals", ["hub", "type"], registry=r
        )
        self.lag_entries = Gauge(
            "redress_agent_sync_lag_entries", "Feed entries behind", ["hub"], registry=r
        )
        self.lag_seconds = Gauge(
            "redress_agent_sync_lag_seconds",
            "Seconds since the agent was last caught up",
            ["hub"],
            registry=r,
        )
        self.sync_errors = Counter(
            "redress_agent_sync_errors_total", "Failed syncs", ["hub"], registry=r
        )
        self.check_latency = Histogram(
            "redress_agent_check_seconds",
            "check latency",
            buckets=(0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.5, 2, 10),
            registry=r,
        )
        self.decisions = Counter(
            "redress_agent_decisions_total", "check decisions", ["decision"], registry=r
        )
        self.outbox = Gauge(
            "redress_agent_outbox_pending", "Feedback not yet acknowledged", registry=r
        )
        self.index_bytes = Gauge(
            "redress_agent_pdq_index_bytes", "Memory of the PDQ index", ["hub"], registry=r
        )


class HubFollower:
    """Keeps one hub's bank in step with its feed, on a thread, with back-off on errors."""

    def __init__(self, agent: Agent, hub: HubConfig) -> None:
        self.agent = agent
        self.hub = hub
        self.bank = HubBank(hub.name)
        self.cursor = 0
        self.head = 0
        self.caught_up_once = False
        self.last_caught_up = time.monotonic()
        self.last_snapshot = time.monotonic()
        self.snapshot_cursor = 0
        self.failures = 0
        self.long_polled = False
        self.progressed = False
        self.last_error: str | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def restore(self) -> None:
        """Load the last snapshot, if any, and resume from its cursor."""
        with self.agent.transaction() as session:
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
            self.bank = HubBank(self.hub.name)
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
        with httpx.Client(
            base_url=self.hub.url,
            headers={"Authorization": f"Bearer {self.hub.key}"},
            timeout=httpx.Timeout(60.0, connect=5.0),
        ) as client:
            while not self._stop.is_set():
                try:
                    more = self.sync_once(client)
                    self.failures = 0
                    self.last_error = None
                except (httpx.HTTPError, ValueError, AgentError, RuntimeError) as exc:
                    if self._stop.is_set():
                        break
                    self.failures += 1
                    self.last_error = f"{type(exc).__name__}: {exc}"[:300]
                    self.agent.metrics.sync_errors.labels(self.hub.name).inc()
                    delay = min(60.0, 0.5 * 2 ** min(self.failures, 7)) * random.uniform(0.8, 1.2)
                    LOGGER.warning(
                        "hub %s: sync failed (%s); retrying in %.1fs",
                        self.hub.name,
                        self.last_error,
                        delay,
                    )
                    self._stop.wait(delay)
                    continue
                self.maybe_snapshot()
                if not more and not self.progressed and not self.long_polled:
                    self._stop.wait(self.agent.settings.poll_seconds)

    def sync_once(self, client: httpx.Client) -> bool:
        """Fetch and apply one response of the compact feed; True if more is waiting."""
        settings = self.agent.settings
        query = {"cursor": str(self.cursor), "limit": str(settings.feed_limit)}
        if self.caught_up_once and settings.long_poll_seconds:
            query["wait"] = str(settings.long_poll_seconds)
        asked = time.monotonic()
        with client.stream("GET", "/v1/feed.bin", params=query) as response:
            if response.status_code != 200:
                response.read()
                raise AgentError(
                    502,
                    "hub_refused",
                    f"hub answered {response.status_code}: {response.text[:200]}",
                )
            until = int(response.headers["X-Next-Cursor"])
            head = int(response.headers["X-Feed-Head"])
            for frame in iter_frames(response.iter_raw(1 << 20)):
                self.bank.apply(decode_block(frame))
        # A hub that held the request (long polling) lets us ask again at once; one that
        # answered straight away with nothing new is asked again after `poll_seconds`.
        self.long_polled = "wait" in query and time.monotonic() - asked >= 0.5 * float(
            query["wait"]
        )
        if until < self.cursor:
            raise AgentError(
                502, "hub_went_back", f"hub's feed ends at {head}, before our cursor {self.cursor}"
            )
        self.progressed = until > self.cursor
        self.cursor, self.head = until, head
        name = self.hub.name
        self.agent.metrics.lag_entries.labels(name).set(max(0, head - until))
        for kind, count in self.bank.counts().items():
            self.agent.metrics.index_size.labels(name, kind).set(count)
        self.agent.metrics.index_bytes.labels(name).set(self.bank.pdq.memory_bytes())
        if self.bank.pdq.total_ids > 10_000 and self.bank.dead_share() > 0.25:
            self.bank = self.bank.compacted()  # checks read `self.bank` once: an atomic swap
            LOGGER.info("hub %s: bank compacted to %d signals", name, len(self.bank))
        if until >= head:
            self.caught_up_once = True
            self.last_caught_up = time.monotonic()
            if self.bank.pdq.delta_size > 4096:
                self.bank.pdq.merge(wait=False)
        self.agent.metrics.lag_seconds.labels(name).set(
            time.monotonic() - self.last_caught_up if until < head else 0
        )
        return until < head

    def maybe_snapshot(self, force: bool = False) -> None:
        """Save the bank if it moved and the snapshot interval passed (or `force`)."""
        due = time.monotonic() - self.last_snapshot >= self.agent.settings.snapshot_seconds
        if self.cursor == self.snapshot_cursor or not (due or force):
            return
        directory = self.agent.state_dir / "banks"
        path = self.bank.save(directory, self.cursor)
        with self.agent.transaction() as session:
            state = session.get(HubState, self.hub.name)
            old = state.snapshot if state else None
            if state is None:
                state = HubState(hub=self.hub.name)
                session.add(state)
            state.cursor, state.snapshot, state.updated_at = self.cursor, str(path), now()
        if old and old != str(path):
            Path(old).unlink(missing_ok=True)
        self.snapshot_cursor = self.cursor
        self.last_snapshot = time.monotonic()


class Agent:
    """One platform agent: its hubs, database, indexes and background work."""

    def __init__(self, settings: AgentSettings, hubs: Sequence[HubConfig]) -> None:
        self.settings = settings
        self.state_dir = Path(settings.state_dir)
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self.engine = make_engine(settings.database_url)
        AgentBase.metadata.create_all(self.engine)
        self.sessions: sessionmaker[Session] = make_session_factory(self.engine)
        self.metrics = Metrics()
        self.hubs = {hub.name: hub for hub in hubs}
        self.followers = {hub.name: HubFollower(self, hub) for hub in hubs}
        self.token = settings.token or self._stored_token()
        self.negative_pdq = PdqIndex()
        self.negative_exact = {"md5": ExactIndex(), "sha256": ExactIndex()}
        self._negative_lock = threading.Lock()
        self._stop = threading.Event()
        self._outbox_thread: threading.Thread | None = None
        self._wake_outbox = threading.Event()
        self.ready_at: float | None = None
        self.budget = MemoryBudget(settings.memory_budget_mb << 20)
        # One upload may take at most what the whole budget holds, so it can always run alone.
        limits = with_limits(HashOptions(types=UPLOAD_TYPES, dihedral=True), get_settings())
        self.upload_options = replace(
            limits, max_decode_mb=min(limits.max_decode_mb, settings.memory_budget_mb)
        )
        self._load_negative()
        self.quarantine = Quarantine(
            self.transaction,
            self.metrics.registry,
            threshold=settings.quarantine_distinct,
            window_seconds=settings.quarantine_window_seconds,
            flush_seconds=settings.quarantine_flush_seconds,
        )

    def _stored_token(self) -> str:
        path = self.state_dir / "agent-token"
        if not path.exists():
            path.write_text(secrets.token_urlsafe(32) + "\n", encoding="utf-8")
            path.chmod(0o600)
            LOGGER.warning("no REDRESS_AGENT_TOKEN set; generated one in %s", path)
        return path.read_text(encoding="utf-8").strip()

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
        self._outbox_thread = threading.Thread(target=self._outbox_loop, name="outbox", daemon=True)
        self._outbox_thread.start()
        self.quarantine.start()

    def stop(self) -> None:
        """Stop the threads and save every bank."""
        self._stop.set()
        self._wake_outbox.set()
        for follower in self.followers.values():
            follower.stop()
            follower.maybe_snapshot(force=True)
        if self._outbox_thread is not None:
            self._outbox_thread.join(timeout=30)
        self.quarantine.stop()
        self.engine.dispose()

    def ready(self) -> tuple[bool, dict[str, str]]:
        """Ready when every enabled hub has been caught up with at least once."""
        status = {}
        for name, follower in self.followers.items():
            if not follower.hub.enabled:
                status[name] = "disabled"
            elif follower.caught_up_once:
                status[name] = "caught up" if follower.cursor >= follower.head else "syncing"
            else:
                status[name] = f"first sync: {follower.cursor} of {follower.head or '?'}" + (
                    f" (last error: {follower.last_error})" if follower.last_error else ""
                )
        ok = all(f.caught_up_once or not f.hub.enabled for f in self.followers.values())
        return ok, status

    # --- check -----------------------------------------------------------------------------

    def upload_cost(self, path: Path) -> int:
        """Memory hashing an uploaded file will take at its peak, from the file's header."""
        return estimate_cost(path, self.upload_options)

    def json_cost(self, body_bytes: int) -> int:
        """Memory a JSON check of `body_bytes` may take (reserved before its body is read)."""
        return JSON_COST_PER_BYTE * body_bytes

    def hash_upload(self, path: Path) -> list[SignalRecord]:
        """Signals of an uploaded file, read once: PDQ of all 8 orientations for pictures, vPDQ
        for videos, MD5 and SHA-256 of the bytes (the hashing core keeps the types that apply).
        Decoding stays within `upload_options` (REDRESS_MAX_DECODE_MB, video limits)."""
        try:
            hashed = hash_file(path, self.upload_options)
        finally:
            return_free_memory()
        if hashed.error is not None:
            raise AgentError(422, f"unhashable_{hashed.error.code.value}", hashed.error.message)
        return hashed.signals

    def check(self, signals: Sequence[SignalRecord]) -> CheckResult:
        """Match `signals` (one piece of content) against every enabled hub's bank."""
        started = time.perf_counter()
        if self._negative_match(signals):
            result = CheckResult("allow", [], suppressed=True)
        else:
            matches = self._match(signals)
            result = CheckResult(decide(matches), matches, signals=signals)
        self.metrics.check_latency.observe(time.perf_counter() - started)
        self.metrics.decisions.labels(result.decision).inc()
        return result

    def _match(self, signals: Sequence[SignalRecord]) -> list[Match]:
        pdq = [s for s in signals if s.type == "pdq"]
        words = bytes_to_words(pdq_hex_to_bytes([s.value for s in pdq])) if pdq else None
        matches: list[Match] = []
        for name, follower in self.followers.items():
            hub = follower.hub
            if not hub.enabled:
                continue
            bank = follower.bank
            found: list[tuple[BankHit, list[tuple[float, float]] | None]] = []
            if words is not None and len(bank.pdq):
                _, ids, distances = bank.pdq.search_arrays(
                    words, np.zeros(len(pdq), dtype=np.int64), hub.pdq_threshold
                )
                for id_, distance in zip(ids.tolist(), distances.tolist(), strict=True):
                    hit = bank.hit("pdq", id_, distance)
                    if hit is not None:
                        found.append((hit, None))
            for signal in signals:
                if signal.type in bank.exact:
                    for id_ in bank.exact[signal.type].search(signal.value):
                        hit = bank.hit(signal.type, id_, 0)
                        if hit is not None:
                            found.append((hit, None))
                elif signal.type == "vpdq" and len(bank.vpdq):
                    for video in bank.vpdq.search(VpdqSignal().parse(signal.value)):
                        hit = bank.hit("vpdq", video.id, None)
                        if hit is not None:
                            found.append((hit, video.segments))
            seen: set[tuple[str, str]] = set()
            for hit, segments in found:
                if (hit.type, hit.value) in seen:
                    continue
                seen.add((hit.type, hit.value))
                matches.append(
                    Match(
                        name,
                        hit.type,
                        hit.value,
                        hit.items,
                        hit.distance,
                        hub.action,
                        segments,
                    )
                )
        return self.quarantine.mark(matches)

    def _negative_match(self, signals: Sequence[SignalRecord]) -> bool:
        with self._negative_lock:
            pdq = [s.value for s in signals if s.type == "pdq"]
            if pdq and len(self.negative_pdq) and any(self.negative_pdq.search(pdq)):
                return True
            return any(
                signal.type in self.negative_exact
                and self.negative_exact[signal.type].search(signal.value)
                for signal in signals
            )

    # --- reviews and feedback ------------------------------------------------------------

    def record(self, result: CheckResult, content_id: str | None, media: Path | None) -> None:
        """Queue reviews (and PendingReview) or Blocked feedback for the matches of a check."""
        if not result.matches:
            return
        if self.quarantine.observe(result, content_id):  # this upload tipped a signal over
            result.decision = decide(result.matches)
        kept_media: str | None = None
        with self.transaction() as session:
            for match in result.matches:
                if match.quarantined:
                    continue
                if match.action == "block":
                    self._enqueue(session, match.hub, match.type, match.value, "Blocked")
                    continue
                if match.action != "review":
                    continue
                if content_id is not None and session.scalar(
                    select(Review.id).where(
                        Review.content_id == content_id,
                        Review.hub == match.hub,
                        Review.signal_value == match.value,
                        Review.status == "pending",
                    )
                ):
                    continue
                if media is not None and kept_media is None:
                    kept_dir = self.state_dir / "review-media"
                    kept_dir.mkdir(parents=True, exist_ok=True)
                    kept = kept_dir / secrets.token_hex(12)
                    shutil.copyfile(media, kept)
                    kept_media = str(kept)
                review = Review(
                    hub=match.hub,
                    signal_type=match.type,
                    signal_value=match.value,
                    item=match.items[0] if match.items else "",
                    distance=match.distance,
                    content_id=content_id,
                    media_path=kept_media,
                    status="pending",
                    created_at=now(),
                )
                session.add(review)
                session.flush()
                result.reviews.append(review.id)
                self._enqueue(session, match.hub, match.type, match.value, "PendingReview")
        self._wake_outbox.set()

    def decide(self, review_id: int, decision: str, moderator: str) -> Review:
        """A moderator's verdict on a held match: `Blocked` or `NotBlocked`; sent to the hub."""
        if decision not in ("Blocked", "NotBlocked"):
            raise AgentError(422, "bad_decision", "decision must be Blocked or NotBlocked")
        with self.transaction() as session:
            review = session.get(Review, review_id)
            if review is None:
                raise AgentError(404, "no_such_review", f"There is no review {review_id}.")
            if review.status != "pending":
                raise AgentError(
                    409,
                    "already_decided",
                    f"Review {review_id} was already decided ({review.status}).",
                )
            review.status = "blocked" if decision == "Blocked" else "not_blocked"
            review.decided_at = now()
            review.decided_by = moderator[:100]
            self._enqueue(session, review.hub, review.signal_type, review.signal_value, decision)
            if review.media_path:
                Path(review.media_path).unlink(missing_ok=True)
                review.media_path = None
        self._wake_outbox.set()
        return review

    def _enqueue(self, session: Session, hub: str, kind: str, value: str, feedback: str) -> None:
        session.add(
            Outbox(
                hub=hub,
                signal_type=kind,
                signal_value=value,
                feedback=feedback,
                attempts=0,
                next_attempt_at=now(),
                created_at=now(),
            )
        )

    def _outbox_loop(self) -> None:
        clients: dict[str, httpx.Client] = {}
        try:
            expired_at = 0.0
            while not self._stop.is_set():
                try:
                    self.deliver_feedback(clients)
                    if time.monotonic() - expired_at >= 60:  # retention is counted in hours
                        self.expire_media()
                        expired_at = time.monotonic()
                except Exception:  # the loop must survive a bad moment of the database
                    LOGGER.exception("feedback delivery failed; retrying")
                self._wake_outbox.wait(1.0)
                self._wake_outbox.clear()
        finally:
            for client in clients.values():
                client.close()

    def deliver_feedback(self, clients: dict[str, httpx.Client]) -> int:
        """Send due feedback, up to 1,000 per hub per round; returns how many were acknowledged."""
        acknowledged = 0
        with self.transaction() as session:
            due = list(
                session.scalars(
                    select(Outbox)
                    .where(Outbox.sent_at.is_(None), Outbox.next_attempt_at <= now())
                    .order_by(Outbox.id)
                    .limit(1000)
                )
            )
        by_hub: dict[tuple[str, bool], list[Outbox]] = {}
        for row in due:  # verdicts and over-matching reports go to different endpoints
            by_hub.setdefault((row.hub, row.feedback == OVERMATCHING), []).append(row)
        for (name, report), rows in by_hub.items():
            hub = self.hubs.get(name)
            if hub is None:
                continue
            client = clients.get(name)
            if client is None:
                client = clients[name] = httpx.Client(
                    base_url=hub.url, headers={"Authorization": f"Bearer {hub.key}"}, timeout=15.0
                )
            path, body = self.quarantine.report_request(rows) if report else self._verdicts(rows)
            error: str | None = None
            try:
                response = client.post(path, json=body)
                if response.status_code != 200:
                    error = f"hub answered {response.status_code}: {response.text[:200]}"
            except httpx.HTTPError as exc:
                error = f"{type(exc).__name__}: {exc}"[:300]
            with self.transaction() as session:
                for row in rows:
                    stored = session.get(Outbox, row.id)
                    if stored is None:
                        continue
                    stored.attempts += 1
                    if error is None:
                        stored.sent_at = now()
                        acknowledged += 1
                    else:
                        stored.last_error = error
                        stored.next_attempt_at = now() + timedelta(
                            seconds=min(3600, 2 ** min(stored.attempts, 12))
                        )
            if error is not None:
                LOGGER.warning("feedback to hub %s not delivered: %s", name, error)
        with self.transaction() as session:
            waiting = session.scalar(
                select(func.count()).select_from(Outbox).where(Outbox.sent_at.is_(None))
            )
        self.metrics.outbox.set(waiting or 0)
        return acknowledged

    @staticmethod
    def _verdicts(rows: Sequence[Outbox]) -> tuple[str, dict[str, Any]]:
        return "/v1/feedback", {
            "feedback": [
                {"type": r.signal_type, "value": r.signal_value, "feedback": r.feedback}
                for r in rows
            ]
        }

    def expire_media(self) -> None:
        """Delete held media older than the retention limit."""
        limit = now() - timedelta(hours=self.settings.media_retention_hours)
        with self.transaction() as session:
            for review in session.scalars(
                select(Review).where(Review.media_path.is_not(None), Review.created_at < limit)
            ):
                if review.media_path:
                    Path(review.media_path).unlink(missing_ok=True)
                review.media_path = None

    # --- negative bank ---------------------------------------------------------------------

    def _load_negative(self) -> None:
        with self.transaction() as session:
            rows = list(session.scalars(select(NegativeSignal)))
        for row in rows:
            self._index_negative(row.signal_type, row.signal_value)

    def _index_negative(self, kind: str, value: str) -> None:
        with self._negative_lock:
            if kind == "pdq":
                self.negative_pdq.add([value])
            elif kind in self.negative_exact:
                self.negative_exact[kind].add([value])
            else:
                raise AgentError(
                    422, "unsupported_type", "The negative bank holds pdq, md5 and sha256."
                )

    def negative_entries(self) -> list[NegativeSignal]:
        """Everything in the negative bank, oldest first."""
        with self.transaction() as session:
            return list(session.scalars(select(NegativeSignal).order_by(NegativeSignal.id)))

    def remove_negative(self, entry_id: int) -> None:
        """Take one hash out of the negative bank (its matches are reported again)."""
        with self.transaction() as session:
            entry = session.get(NegativeSignal, entry_id)
            if entry is None:
                raise AgentError(
                    404, "no_such_entry", f"The negative bank has no entry {entry_id}."
                )
            session.delete(entry)
        with self._negative_lock:
            self.negative_pdq = PdqIndex()
            self.negative_exact = {"md5": ExactIndex(), "sha256": ExactIndex()}
        self._load_negative()

    def add_negative(self, signals: Sequence[SignalRecord], note: str | None) -> int:
        """Add benign hashes; content matching one of them is never reported."""
        for signal in signals:
            if signal.type not in ("pdq", "md5", "sha256"):
                raise AgentError(
                    422, "unsupported_type", "The negative bank holds pdq, md5 and sha256."
                )
        with self.transaction() as session:
            for signal in signals:
                session.add(
                    NegativeSignal(
                        signal_type=signal.type,
                        signal_value=signal.value,
                        note=note,
                        created_at=now(),
                    )
                )
        for signal in signals:
            self._index_negative(signal.type, signal.value)
        return len(signals)
