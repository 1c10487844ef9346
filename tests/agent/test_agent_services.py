"""Service-level tests of the agent's state machines on a real database (SQLite and PostgreSQL,
the agent's tables beside a hub's): the review queue (held -> decided, once), the outbox
(delivered, or pushed back by the back-off on the injected clock), the negative bank; and that
each state change writes its event in the same transaction."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import AbstractContextManager
from datetime import timedelta
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry
from sqlalchemy import select
from sqlalchemy.orm import Session

from redress.agent.check.service import CheckResult, Match
from redress.agent.config import HubConfig
from redress.agent.errors import AgentError
from redress.agent.metrics import Metrics
from redress.agent.models import AgentEvent
from redress.agent.negative.service import NegativeBank
from redress.agent.outbox import service as outbox
from redress.agent.outbox.models import Outbox
from redress.agent.outbox.worker import OutboxWorker
from redress.agent.quarantine.service import Quarantine
from redress.agent.review import service as review
from redress.agent.review.models import Review, ReviewStatus
from redress.core.clock import ManualClock
from redress.db import make_engine, make_session_factory, unit_of_work
from redress.hashing.files import SignalRecord
from tests.agent.conftest import free_port, migrate_agent
from tests.hub.conftest import database_url  # noqa: F401

PDQ = "ab" * 32


class Db:
    """The agent's tables on one database, and a clock that moves only when told."""

    def __init__(self, url: str) -> None:
        self.engine = make_engine(migrate_agent(url))
        self.sessions = make_session_factory(self.engine)
        self.clock = ManualClock()

    def transaction(self) -> AbstractContextManager[Session]:
        return unit_of_work(self.sessions)

    def events(self, kind: str | None = None) -> list[tuple[str, str, dict[str, object]]]:
        with self.transaction() as session:
            query = select(AgentEvent).order_by(AgentEvent.id)
            if kind is not None:
                query = query.where(AgentEvent.kind == kind)
            return [(e.kind, e.subject, json.loads(e.details)) for e in session.scalars(query)]

    def outbox(self) -> list[Outbox]:
        with self.transaction() as session:
            return list(session.scalars(select(Outbox).order_by(Outbox.id)))


@pytest.fixture
def db(database_url: str) -> Iterator[Db]:  # noqa: F811
    found = Db(database_url)
    yield found
    found.engine.dispose()


def matched(action: str, value: str = PDQ, **extra: object) -> CheckResult:
    match = Match("hub", "pdq", value, ("item-1",), 4, action, **extra)  # type: ignore[arg-type]
    return CheckResult(action, [match])


def hold(db: Db, result: CheckResult, content_id: str | None, media: Path | None = None) -> None:
    with db.transaction() as session:
        review.hold(
            session,
            clock=db.clock,
            result=result,
            content_id=content_id,
            media=media,
            media_dir=Path("/nonexistent") if media is None else media.parent / "held",
        )


def test_a_review_is_held_then_decided_once(db: Db, tmp_path: Path) -> None:
    upload = tmp_path / "upload.jpg"
    upload.write_bytes(b"benign bytes")
    result = matched("review")
    hold(db, result, "post-1", upload)
    hold(db, matched("review"), "post-1")  # the same content again: not held twice
    (review_id,) = result.reviews
    with db.transaction() as session:
        (held,) = review.listed(session, status=ReviewStatus.PENDING, limit=10)
    assert held.id == review_id and held.status == "pending" and held.created_at == db.clock.now()
    assert held.media_path is not None and Path(held.media_path).read_bytes() == b"benign bytes"
    assert [r.feedback for r in db.outbox()] == ["PendingReview"]
    assert db.events() == [
        ("review.created", f"review:{review_id}", {"hub": "hub", "type": "pdq", "with_media": True})
    ]

    db.clock.advance(60)
    with db.transaction() as session:
        decided = review.decide(
            session, clock=db.clock, review_id=review_id, decision="Blocked", moderator="sam"
        )
    assert decided.status == "blocked" and decided.decided_by == "sam"
    assert decided.decided_at == db.clock.now()
    assert not Path(held.media_path).exists()  # the held file goes with the decision
    assert [r.feedback for r in db.outbox()] == ["PendingReview", "Blocked"]
    assert db.events("review.decided") == [
        ("review.decided", f"review:{review_id}", {"status": "blocked"})
    ]

    for decision, status, code in (
        ("NotBlocked", 409, "already_decided"),
        ("Maybe", 422, "bad_decision"),
    ):
        with pytest.raises(AgentError) as refused, db.transaction() as session:
            review.decide(
                session, clock=db.clock, review_id=review_id, decision=decision, moderator="x"
            )
        assert (refused.value.status, refused.value.code) == (status, code)
    with pytest.raises(AgentError) as missing, db.transaction() as session:
        review.decide(session, clock=db.clock, review_id=999, decision="Blocked", moderator="x")
    assert (missing.value.status, missing.value.code) == (404, "no_such_review")
    with db.transaction() as session:
        assert session.get(Review, review_id).status == "blocked"  # type: ignore[union-attr]
    assert len(db.events("review.decided")) == 1  # refusals change nothing and record nothing


def test_block_matches_send_blocked_and_quarantined_ones_nothing(db: Db) -> None:
    hold(db, matched("block"), None)
    hold(db, matched("review", quarantined=True), None)
    hold(db, matched("allow"), None)
    assert [r.feedback for r in db.outbox()] == ["Blocked"]
    assert db.events() == []  # no review was created


def test_held_media_expires_with_the_clock(db: Db, tmp_path: Path) -> None:
    upload = tmp_path / "upload.jpg"
    upload.write_bytes(b"benign")
    hold(db, matched("review"), "post-2", upload)
    (held,) = [Path(r.media_path) for r in _reviews(db) if r.media_path]
    for hours, kept in ((167, True), (2, False)):
        db.clock.advance(hours * 3600)
        with db.transaction() as session:
            review.expire_media(session, clock=db.clock, retention_hours=168)
        assert held.exists() is kept


def _reviews(db: Db) -> list[Review]:
    with db.transaction() as session:
        return list(session.scalars(select(Review)))


def test_the_outbox_backs_off_on_the_clock_and_records_each_attempt(db: Db) -> None:
    with db.transaction() as session:
        outbox.enqueue(
            session, clock=db.clock, hub="hub", kind="pdq", value=PDQ, feedback="Blocked"
        )
    # A hub that is not listening: a real refused connection on loopback.
    hub = HubConfig("hub", f"http://127.0.0.1:{free_port()}", "rk_test_key")
    worker = OutboxWorker(
        transaction=db.transaction,
        clock=db.clock,
        hubs={"hub": hub},
        metrics=Metrics(),
        report_request=lambda rows: ("/v1/overmatching", {}),
    )
    clients: dict = {}
    waits = []
    for _ in range(13):
        assert worker.deliver(clients) == 0
        (row,) = db.outbox()
        waits.append((row.next_attempt_at - db.clock.now()).total_seconds())
        assert worker.deliver(clients) == 0  # not due yet: not tried again
        assert db.outbox()[0].attempts == row.attempts
        db.clock.advance(waits[-1])
    for client in clients.values():
        client.close()
    # 2 s after the first failure, doubling, at most an hour (as before the reshape).
    assert waits == [min(3600, 2**n) for n in range(1, 14)]
    failed = db.events("outbox.failed")
    assert len(failed) == 13 and failed[0][1] == "hub:hub"
    assert failed[0][2]["count"] == 1 and failed[0][2]["feedback"] == {"Blocked": 1}
    assert "ConnectError" in str(failed[0][2]["error"])
    assert worker.metrics.outbox._value.get() == 1  # still pending

    with db.transaction() as session:
        (row,) = outbox.due(session, clock=db.clock)
        acknowledged = outbox.record_attempt(
            session, clock=db.clock, hub="hub", ids=[row.id], error=None
        )
    assert acknowledged == 1
    assert db.outbox()[0].sent_at == db.clock.now()
    assert db.events("outbox.delivered") == [
        ("outbox.delivered", "hub:hub", {"count": 1, "feedback": {"Blocked": 1}})
    ]
    with db.transaction() as session:
        assert outbox.due(session, clock=db.clock) == []
        assert outbox.pending_count(session) == 0


def test_the_negative_bank_records_additions_and_removals(db: Db) -> None:
    bank = NegativeBank(transaction=db.transaction, clock=db.clock)
    added = bank.add([SignalRecord("pdq", PDQ), SignalRecord("md5", "cd" * 16)], "logo")
    assert added == 2 and bank.matches([SignalRecord("md5", "cd" * 16)])
    first, second = (e.id for e in bank.entries())
    bank.remove(first)
    assert not bank.matches([SignalRecord("pdq", PDQ)])
    assert bank.matches([SignalRecord("md5", "cd" * 16)])
    with pytest.raises(AgentError) as refused:
        bank.add([SignalRecord("vpdq", "0,100,00,0.0")], None)
    assert refused.value.code == "unsupported_type"
    with pytest.raises(AgentError) as missing:
        bank.remove(first)
    assert missing.value.code == "no_such_entry"
    assert db.events() == [
        ("negative.added", f"negative:{first}", {"type": "pdq"}),
        ("negative.added", f"negative:{second}", {"type": "md5"}),
        ("negative.removed", f"negative:{first}", {"type": "pdq"}),
    ]
    fresh = NegativeBank(transaction=db.transaction, clock=db.clock)
    fresh.load()  # what is stored is what is indexed after a restart
    assert fresh.matches([SignalRecord("md5", "cd" * 16)])
    assert not fresh.matches([SignalRecord("pdq", PDQ)])


def test_a_quarantine_on_and_off_is_recorded(db: Db) -> None:
    safeguard = Quarantine(
        db.transaction, CollectorRegistry(), threshold=2, window_seconds=60, clock=db.clock
    )
    for number in range(3):
        result = matched("review")
        result.signals = [SignalRecord("sha256", f"{number:064x}")]
        safeguard.observe(result, None)
        db.clock.advance(1)
    ((row, reported),) = safeguard.entries()
    assert reported is None and row.quarantined_at == db.clock.now() - timedelta(seconds=1)
    assert [r.feedback for r in db.outbox()] == ["Overmatching"]
    safeguard.release(row.id, "sam")
    with pytest.raises(AgentError) as again:
        safeguard.release(row.id, "sam")
    assert (again.value.status, again.value.code) == (409, "already_released")
    assert db.events() == [
        (
            "quarantine.on",
            f"quarantine:{row.id}",
            {
                "hub": "hub",
                "type": "pdq",
                "distinct_uploads": 3,
                "threshold": 2,
                "window_seconds": 60.0,
            },
        ),
        ("quarantine.off", f"quarantine:{row.id}", {"hub": "hub", "type": "pdq"}),
    ]
