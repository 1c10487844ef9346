"""The bank's service functions (validation, items, the feed) on both databases, and the feed's
commit-order guarantee on PostgreSQL forced deterministically."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session, sessionmaker

from redress.config import Settings
from redress.core.clock import SystemClock
from redress.db import make_engine, make_session_factory, unit_of_work
from redress.hub.bank import feed as feed_machine
from redress.hub.bank import service as bank
from redress.hub.bank.bulk import intern_signals
from redress.hub.bank.schemas import ItemIn, SignalIn
from redress.hub.errors import HubError
from redress.hub.models import Event, FeedEntry, Item, ItemSignal, Participant, Signal
from redress.hub.participants import service as participants
from redress.hub.participants.schemas import DEFAULT_SCOPES
from tests.hub.conftest import PDQ_A, PDQ_B, _fresh_postgres_database, _migrate

PDQ_C = "0f" * 32
CLOCK = SystemClock()
FRAME = "{n},{q}," + PDQ_A + ",{t}"


@pytest.fixture
def sessions(database_url: str) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(database_url)
    yield make_session_factory(engine)
    engine.dispose()


def limits(items_per_request: int) -> Settings:
    """Settings with this many items per request (the other limits as shipped)."""
    return Settings(max_items_per_request=items_per_request)


def item(*signals: dict[str, Any]) -> ItemIn:
    return ItemIn(signals=[SignalIn(**s) for s in signals])


def refused(items: list[ItemIn], limit: int = 10) -> HubError:
    with pytest.raises(HubError) as caught:
        bank.validate_items(items, limits(limit))
    return caught.value


def valid(kind: str, value: str, quality: int | None = 100, variant: str | None = None):  # type: ignore[no-untyped-def]
    return bank.ValidSignal(kind, value, quality, variant)


def feed(session: Session) -> list[tuple[str, str, str, str | None, str]]:
    rows = session.scalars(select(FeedEntry).order_by(FeedEntry.seq))
    return [(e.op, e.reason, e.signal.value, e.variant, e.item_ref) for e in rows]


# --- validation ---------------------------------------------------------------------------


def test_validation_normalises_and_keeps_quality_and_variant() -> None:
    items = [
        item({"type": " PDQ ", "value": PDQ_A.upper(), "quality": 50}),
        item(
            {"type": "md5", "value": "A" * 32, "quality": 3},  # quality matters for PDQ only
            {"type": "pdq", "value": PDQ_B, "variant": "top85"},
        ),
    ]
    assert bank.validate_items(items, limits(2)) == [
        [valid("pdq", PDQ_A, 50)],
        [valid("md5", "a" * 32, 3), valid("pdq", PDQ_B, None, "top85")],
    ]


def test_too_many_items_are_refused_before_any_work() -> None:
    assert len(bank.validate_items([item({"type": "pdq", "value": PDQ_A})] * 2, limits(2))) == 2
    error = refused([item({"type": "pdq", "value": "bad"})] * 3, limit=2)
    assert (error.status, error.code) == (413, "too_many_items")
    assert error.detail == "At most 2 items per request; send the rest separately."


def test_a_bad_signal_is_named_by_item_and_position() -> None:
    error = refused(
        [
            item({"type": "pdq", "value": PDQ_A}),
            item({"type": "md5", "value": "a" * 32}, {"type": "md5", "value": "ab"}),
        ]
    )
    assert (error.status, error.code) == (422, "invalid_signal")
    assert error.detail == (
        "item 2, signal 2: MD5 digest has 2 hexadecimal characters; expected exactly 32."
    )
    unknown = refused([item({"type": "phash", "value": "1"})])
    assert unknown.detail.startswith("item 1, signal 1: Unknown signal type 'phash'")


def test_pdq_quality_below_50_is_refused_and_50_is_not() -> None:
    error = refused([item({"type": "pdq", "value": PDQ_A, "quality": 49})])
    assert (error.status, error.code) == (422, "low_quality")
    assert error.detail == (
        "item 1, signal 1: PDQ quality 49 is below 50; the picture is too flat to match "
        "reliably. Try another copy of the image."
    )
    assert bank.validate_items([item({"type": "pdq", "value": PDQ_A, "quality": 50})], limits(1))
    assert bank.validate_items([item({"type": "pdq", "value": PDQ_A, "quality": None})], limits(1))


def test_a_video_is_refused_only_when_no_frame_is_trusted() -> None:
    black_start = ";".join([FRAME.format(n=0, q=0, t=0), FRAME.format(n=1, q=50, t=1)])
    ((accepted,),) = bank.validate_items([item({"type": "vpdq", "value": black_start})], limits(1))
    assert accepted.type == "vpdq" and accepted.value.count("\n") == 1
    all_flat = ";".join([FRAME.format(n=0, q=0, t=0), FRAME.format(n=1, q=49, t=1)])
    error = refused([item({"type": "vpdq", "value": all_flat})])
    assert (error.status, error.code) == (422, "low_quality")
    assert error.detail == "item 1, signal 1: no frame of this video hashed with quality 50+."


# --- items and the feed ---------------------------------------------------------------------


def test_adding_an_item_announces_each_distinct_signal_once(sessions) -> None:  # type: ignore[no-untyped-def]
    with unit_of_work(sessions) as session:
        added = bank.add_item(
            session,
            [valid("pdq", PDQ_A), valid("pdq", PDQ_A, 90), valid("pdq", PDQ_B, 80, "top85")],
            actor="test",
            clock=CLOCK,
        )
        ref = added.ref
    assert re.fullmatch(r"i_[0-9a-f]{20}", ref)
    with sessions() as session:
        stored = session.scalars(select(Item)).one()
        assert (stored.ref, stored.status, stored.withdrawn_at) == (ref, "active", None)
        links = session.scalars(select(ItemSignal).order_by(ItemSignal.id)).all()
        assert [(link.signal.value, link.quality, link.variant) for link in links] == [
            (PDQ_A, 100, None),
            (PDQ_B, 80, "top85"),
        ]
        assert feed(session) == [
            ("add", "added", PDQ_A, None, ref),
            ("add", "added", PDQ_B, "top85", ref),
        ]
        assert {s.status for s in session.scalars(select(Signal))} == {"active"}
        actions = [(e.actor, e.action) for e in session.scalars(select(Event))]
        assert ("test", "item.added") in actions


def test_a_platform_item_records_its_platform(sessions) -> None:  # type: ignore[no-untyped-def]
    with unit_of_work(sessions) as session:
        participants.add_participant(session, name="Platform", scopes=DEFAULT_SCOPES, clock=CLOCK)
    with unit_of_work(sessions) as session:
        platform = session.scalars(select(Participant)).one()
        bank.add_item(
            session, [valid("md5", "d" * 32)], participant_id=platform.id, actor="p", clock=CLOCK
        )
    with sessions() as session:
        stored = session.scalars(select(Item)).one()
        assert (stored.participant_id, stored.case_id) == (platform.id, None)


def test_a_signal_leaves_the_feed_when_its_last_holder_is_withdrawn(sessions) -> None:  # type: ignore[no-untyped-def]
    with unit_of_work(sessions) as session:
        first = bank.add_item(
            session, [valid("pdq", PDQ_A), valid("md5", "c" * 32)], actor="a", clock=CLOCK
        )
        second = bank.add_item(session, [valid("pdq", PDQ_A)], actor="b", clock=CLOCK)
        refs = first.ref, second.ref
    with unit_of_work(sessions) as session:
        for signal in session.scalars(select(Signal)):
            signal.modified_at = 0  # last changed long ago
    before = int(time.time())
    with unit_of_work(sessions) as session:
        held = session.scalars(select(Item).where(Item.ref == refs[0])).one()
        bank.withdraw_item(session, held, actor="a", clock=CLOCK)
        bank.withdraw_item(session, held, actor="a", clock=CLOCK)  # twice changes nothing more
    with sessions() as session:
        assert feed(session)[2:] == [
            ("add", "added", PDQ_A, None, refs[1]),  # announced again for its new holder
            ("remove", "withdrawn", "c" * 32, None, refs[0]),
        ]
        status = {s.value: (s.status, s.modified_at) for s in session.scalars(select(Signal))}
        assert status[PDQ_A] == ("active", 0)  # still held by the second item: unchanged
        assert status["c" * 32][0] == "withdrawn"
        # Withdrawals reach the time-ordered (StopNCII) export: the row's time moved on.
        assert status["c" * 32][1] >= before
        withdrawn = session.scalars(select(Item).where(Item.ref == refs[0])).one()
        assert withdrawn.status == "withdrawn" and withdrawn.withdrawn_at is not None
        events = [e.action for e in session.scalars(select(Event).where(Event.actor == "a"))]
        assert events == ["item.added", "item.withdrawn"]
    with unit_of_work(sessions) as session:
        last = session.scalars(select(Item).where(Item.ref == refs[1])).one()
        bank.withdraw_item(session, last, actor="b", clock=CLOCK)
    with sessions() as session:
        assert feed(session)[-1] == ("remove", "withdrawn", PDQ_A, None, refs[1])


def test_a_quarantined_signal_is_removed_and_marked_quarantined(sessions) -> None:  # type: ignore[no-untyped-def]
    with unit_of_work(sessions) as session:
        ref = bank.add_item(session, [valid("pdq", PDQ_A)], actor="a", clock=CLOCK).ref
    with unit_of_work(sessions) as session:
        signal = session.scalars(select(Signal)).one()
        signal.quarantined_at = signal.created_at
        feed_machine.refresh_signal(session, signal, ref, reason="disputed", clock=CLOCK)
        feed_machine.refresh_signal(
            session, signal, ref, reason="disputed", clock=CLOCK
        )  # already out: no entry
    with sessions() as session:
        assert session.scalars(select(Signal)).one().status == "quarantined"
        assert feed(session)[1:] == [("remove", "disputed", PDQ_A, None, ref)]


def test_interning_returns_one_row_per_value(sessions) -> None:  # type: ignore[no-untyped-def]
    with unit_of_work(sessions) as session:
        ids = intern_signals(
            session, [("pdq", PDQ_C), ("pdq", PDQ_C), ("sha256", PDQ_C)], clock=CLOCK
        )
        again = intern_signals(session, [("pdq", PDQ_C)], clock=CLOCK)
        assert len(ids) == 2 and ids[("pdq", PDQ_C)] == again[("pdq", PDQ_C)]
        assert ids[("pdq", PDQ_C)] != ids[("sha256", PDQ_C)]
        first = session.get(Signal, ids[("pdq", PDQ_C)])
        assert first is not None
        assert first.status == "unpublished"  # on the feed only once an item publishes it
        assert first.dispute_cleared is False  # a new hash has not been through a dispute
        assert first.modified_at >= int(time.time()) - 1


def test_pages_end_exactly_at_the_last_entry(sessions) -> None:  # type: ignore[no-untyped-def]
    with unit_of_work(sessions) as session:
        bank.add_item(
            session, [valid("pdq", v) for v in (PDQ_A, PDQ_B, PDQ_C)], actor="a", clock=CLOCK
        )
    with sessions() as session:
        seqs = [e.seq for e in session.scalars(select(FeedEntry).order_by(FeedEntry.seq))]
        page, more = bank.read_feed(session, 0, 2)
        assert ([e.seq for e in page], more) == (seqs[:2], True)
        page, more = bank.read_feed(session, seqs[1], 1)
        assert ([e.seq for e in page], more) == (seqs[2:], False)  # exactly the last page
        page, more = bank.read_feed(session, 0, 3)
        assert ([e.seq for e in page], more) == (seqs, False)
        assert page[0].signal.value == PDQ_A
        assert bank.read_feed(session, seqs[2], 5) == ([], False)


# --- commit order on PostgreSQL ----------------------------------------------------------


@pytest.fixture
def postgres_sessions(postgres_server: str) -> Iterator[sessionmaker[Session]]:
    for url in _fresh_postgres_database(postgres_server):
        _migrate(url)
        engine = make_engine(url)
        yield make_session_factory(engine)
        engine.dispose()


def _blocked_on_advisory_lock(sessions: sessionmaker[Session]) -> bool:
    with sessions() as session:
        waiting = session.scalar(
            text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted")
        )
        return bool(waiting)


def test_a_reader_never_passes_an_uncommitted_entry(postgres_sessions) -> None:  # type: ignore[no-untyped-def]
    """Writer 1 appends and stays open; writer 2 appends and commits; the reader reads in
    between. Without the feed lock writer 2's entry (a higher seq) is visible first and the
    reader's cursor jumps past writer 1's, which then commits behind it and is never read."""
    sessions = postgres_sessions
    first_appended, first_may_commit, second_done = (threading.Event() for _ in range(3))
    failures: list[BaseException] = []

    def write(value: str, appended: threading.Event | None, wait: threading.Event | None) -> None:
        try:
            with unit_of_work(sessions) as session:
                bank.add_item(session, [valid("pdq", value)], actor="writer", clock=CLOCK)
                if appended is not None:
                    appended.set()
                if wait is not None:
                    assert wait.wait(60), "never released"
        except BaseException as exc:  # reported by the main thread
            failures.append(exc)
        finally:
            if appended is not None:
                appended.set()

    def second() -> None:
        write(PDQ_B, None, None)
        second_done.set()

    one = threading.Thread(target=write, args=(PDQ_A, first_appended, first_may_commit))
    two = threading.Thread(target=second)
    one.start()
    assert first_appended.wait(60) and not failures, failures
    two.start()
    # Writer 2 has either committed (no lock) or is queued behind writer 1's lock: a state,
    # not a time. Only then does the reader read.
    deadline = time.monotonic() + 60
    while not (second_done.is_set() or _blocked_on_advisory_lock(sessions)):
        assert time.monotonic() < deadline, "writer 2 neither committed nor waited for the lock"
        second_done.wait(0.01)
    seen: list[int] = []
    cursor = 0
    with sessions() as session:
        page, _ = bank.read_feed(session, cursor, 100)
        seen += [e.seq for e in page]
        cursor = seen[-1] if seen else cursor
    first_may_commit.set()
    one.join(60)
    two.join(60)
    assert not failures, failures
    with sessions() as session:
        page, _ = bank.read_feed(session, cursor, 100)
        seen += [e.seq for e in page]
        everything = list(session.scalars(select(FeedEntry.seq).order_by(FeedEntry.seq)))
    assert len(everything) == 2
    assert seen == everything, "the reader skipped an entry that committed late"
