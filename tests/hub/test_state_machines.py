"""The hub's state machines driven through the services directly, on both databases, with a
`ManualClock`: a case (active → withdrawn), an item (active → withdrawn; held → released or
rejected), a signal (unpublished → active → withdrawn → active again; on and off the feed by
quarantine and restoring). Every moment recorded is the clock's."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from redress.core.clock import ManualClock
from redress.db import make_engine, make_session_factory, unit_of_work
from redress.hub.bank import holds
from redress.hub.bank import service as bank
from redress.hub.bank.models import FeedEntry, HoldState, Item, ItemState, Signal, SignalState
from redress.hub.cases import service as cases
from redress.hub.cases.models import CaseState
from redress.hub.disputes import service as disputes
from redress.hub.errors import HubError
from redress.hub.events import Event
from redress.hub.feedback import service as feedback
from tests.hub.factories import (
    BOX,
    SETTINGS,
    make_case,
    make_item,
    make_participant,
    make_signal,
    pdq_value,
    valid_signal,
)

START = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)


@pytest.fixture
def sessions(database_url: str) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(database_url)
    yield make_session_factory(engine)
    engine.dispose()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


def _feed(session: Session) -> list[tuple[str, str, str, datetime]]:
    rows = session.scalars(select(FeedEntry).order_by(FeedEntry.seq))
    return [(e.op, e.reason, e.signal.value, e.created_at) for e in rows]


def _events(session: Session, action: str) -> list[datetime]:
    return list(session.scalars(select(Event.at).where(Event.action == action).order_by(Event.id)))


def test_a_case_goes_from_active_to_withdrawn_at_the_clocks_time(sessions, clock) -> None:  # type: ignore[no-untyped-def]
    value = pdq_value()
    with unit_of_work(sessions) as session:
        case, _pin = make_case(session, clock=clock, items=[[valid_signal(value)]])
        case_id = case.id
    clock.advance(3600)
    with unit_of_work(sessions) as session:
        case = cases.load_case(session, case_id)
        assert (case.status, case.created_at) == (CaseState.ACTIVE, START)
        cases.withdraw(session, case, None, clock=clock)
    later = START + timedelta(hours=1)
    with unit_of_work(sessions) as session:
        case = cases.load_case(session, case_id)
        assert (case.status, case.withdrawn_at) == (CaseState.WITHDRAWN, later)
        item = session.scalars(select(Item).where(Item.case_id == case_id)).one()
        assert (item.status, item.withdrawn_at) == (ItemState.WITHDRAWN, later)
        assert _feed(session) == [
            ("add", "added", value, START),
            ("remove", "withdrawn", value, later),
        ]
        assert _events(session, "case.withdrawn") == [later]
        clock.advance(60)
        cases.withdraw(session, case, None, clock=clock)  # again: nothing changes
        assert _events(session, "case.withdrawn") == [later]
        assert len(_feed(session)) == 2
        with pytest.raises(HubError) as refused:
            cases.add_items(session, case, [[valid_signal()]], settings=SETTINGS, clock=clock)
        assert (refused.value.status, refused.value.code) == (409, "case_withdrawn")


def test_an_idempotent_retry_shows_the_pin_for_24_hours_of_the_clock(sessions, clock) -> None:  # type: ignore[no-untyped-def]
    items = [[valid_signal()]]

    def create() -> cases.NewCase:
        with unit_of_work(sessions) as session:
            return cases.create_case(
                session,
                settings=SETTINGS,
                box=BOX,
                statement_version=SETTINGS.statement_version,
                items=items,
                idempotency_key="retry-key-1",
                clock=clock,
            )

    first = create()
    clock.advance(24 * 3600 - 1)
    again = create()
    assert (again.case_number, again.pin, again.replayed) == (first.case_number, first.pin, True)
    clock.advance(2)
    with pytest.raises(HubError) as refused:
        create()
    assert (refused.value.status, refused.value.code) == (409, "already_created")


def test_an_item_is_withdrawn_once_and_a_shared_signal_stays_on_the_feed(sessions, clock) -> None:  # type: ignore[no-untyped-def]
    shared, own = pdq_value(), pdq_value()
    with unit_of_work(sessions) as session:
        first = make_item(session, clock=clock, signals=[valid_signal(shared), valid_signal(own)])
        make_item(session, clock=clock, signals=[valid_signal(shared)])
        first_id = first.id
    clock.advance(10)
    with unit_of_work(sessions) as session:
        item = session.get(Item, first_id)
        assert item is not None and item.status == ItemState.ACTIVE
        bank.withdraw_item(session, item, clock=clock, actor="test")
        bank.withdraw_item(session, item, clock=clock, actor="test")  # twice: nothing more
    moment = START + timedelta(seconds=10)
    with sessions() as session:
        item = session.get(Item, first_id)
        assert item is not None and (item.status, item.withdrawn_at) == (
            ItemState.WITHDRAWN,
            moment,
        )
        status = {s.value: s.status for s in session.scalars(select(Signal))}
        assert status == {shared: SignalState.ACTIVE, own: SignalState.WITHDRAWN}
        assert _feed(session)[-1] == ("remove", "withdrawn", own, moment)
        assert _events(session, "item.withdrawn") == [moment]


def test_a_signal_goes_unpublished_active_withdrawn_and_active_again(sessions, clock) -> None:  # type: ignore[no-untyped-def]
    value = pdq_value()
    with unit_of_work(sessions) as session:
        case, _ = make_case(session, clock=clock)
        # A held item interns its signal without publishing it.
        held = bank.add_case_items(
            session,
            [[valid_signal(value)]],
            clock=clock,
            case_id=case.id,
            new_case=False,
            hold_reason="volume",
            source=None,
        )
        signal = bank.find_signal(session, "pdq", value)
        assert signal is not None and signal.status == SignalState.UNPUBLISHED
        assert bank.find_signal(session, "pdq", value, published=True) is None
        hold_id = holds.list_holds(session)[0].id
        assert held[0].status == ItemState.HELD
    clock.advance(60)
    with unit_of_work(sessions) as session:
        released = holds.release(session, hold_id, clock=clock, actor="staff")
        assert (released.status, released.decided_at) == (
            HoldState.RELEASED,
            START + timedelta(seconds=60),
        )
    with unit_of_work(sessions) as session:
        signal = bank.find_signal(session, "pdq", value, published=True)
        assert signal is not None and signal.status == SignalState.ACTIVE
        assert signal.modified_at == int((START + timedelta(seconds=60)).timestamp())
        item = session.scalars(select(Item).where(Item.ref == held[0].ref)).one()
        clock.advance(60)
        bank.withdraw_item(session, item, clock=clock, actor="survivor")
    with unit_of_work(sessions) as session:
        signal = bank.find_signal(session, "pdq", value)
        assert signal is not None and signal.status == SignalState.WITHDRAWN
        clock.advance(60)
        make_item(session, clock=clock, signals=[valid_signal(value)])
    with sessions() as session:
        signal = bank.find_signal(session, "pdq", value)
        assert signal is not None and signal.status == SignalState.ACTIVE
        assert [(op, reason) for op, reason, v, _ in _feed(session) if v == value] == [
            ("add", "added"),
            ("remove", "withdrawn"),
            ("add", "added"),
        ]


def test_a_rejected_hold_never_reaches_the_feed(sessions, clock) -> None:  # type: ignore[no-untyped-def]
    value = pdq_value()
    with unit_of_work(sessions) as session:
        case, _ = make_case(session, clock=clock)
        bank.add_case_items(
            session,
            [[valid_signal(value)]],
            clock=clock,
            case_id=case.id,
            new_case=False,
            hold_reason="size",
            source=None,
        )
        hold_id = holds.list_holds(session)[0].id
    with unit_of_work(sessions) as session:
        holds.reject(session, hold_id, clock=clock, actor="staff")
        with pytest.raises(HubError) as decided:
            holds.reject(session, hold_id, clock=clock, actor="staff")
        assert (decided.value.status, decided.value.code) == (409, "hold_decided")
    with sessions() as session:
        item = session.scalars(select(Item).where(Item.status == ItemState.REJECTED)).one()
        assert item.withdrawn_at == START
        assert value not in {v for _, _, v, _ in _feed(session)}
        signal = bank.find_signal(session, "pdq", value)
        assert signal is not None and signal.status == SignalState.UNPUBLISHED


def test_a_disputed_signal_is_quarantined_then_restored_for_good(sessions, clock) -> None:  # type: ignore[no-untyped-def]
    with unit_of_work(sessions) as session:
        signal = make_signal(session, clock=clock)
        platforms = [make_participant(session, clock=clock)[0].id for _ in range(3)]
        signal_id = signal.id

    def verdict(session: Session, platform: int, value: str) -> bool:
        row = bank.signal_by_id(session, signal_id)
        assert row is not None
        feedback.record_feedback(
            session, participant_id=platform, signal=row, value=value, tags=[], clock=clock
        )
        return disputes.review(session, signal_id=signal_id, threshold=2, clock=clock)

    with unit_of_work(sessions) as session:
        assert not verdict(session, platforms[0], "NotBlocked")
    clock.advance(30)
    with unit_of_work(sessions) as session:
        assert verdict(session, platforms[1], "NotBlocked")  # the second dispute: quarantined
    quarantined_at = START + timedelta(seconds=30)
    with unit_of_work(sessions) as session:
        row = bank.signal_by_id(session, signal_id)
        assert row is not None
        assert (row.status, row.quarantined_at) == (SignalState.QUARANTINED, quarantined_at)
        assert _feed(session)[-1][:2] == ("remove", "quarantine")
        assert [s.id for s in disputes.quarantined(session)] == [signal_id]
        clock.advance(30)
        disputes.restore_signal(session, row, actor="staff", clock=clock)
    with unit_of_work(sessions) as session:
        row = bank.signal_by_id(session, signal_id)
        assert row is not None
        assert (row.status, row.quarantined_at, row.dispute_cleared) == (
            SignalState.ACTIVE,
            None,
            True,
        )
        assert _feed(session)[-1][:2] == ("add", "restored")
        # Cleared by staff: further disputes do not take it off again.
        assert not verdict(session, platforms[2], "NotBlocked")
        assert disputes.quarantined(session) == []


def test_one_blocked_verdict_keeps_a_disputed_signal_on_the_feed(sessions, clock) -> None:  # type: ignore[no-untyped-def]
    with unit_of_work(sessions) as session:
        signal = make_signal(session, clock=clock)
        first, second, third = (make_participant(session, clock=clock)[0].id for _ in range(3))
        for platform, value in ((first, "Blocked"), (second, "NotBlocked"), (third, "NotBlocked")):
            feedback.record_feedback(
                session, participant_id=platform, signal=signal, value=value, tags=[], clock=clock
            )
            assert not disputes.review(session, signal_id=signal.id, threshold=2, clock=clock)
        assert signal.status == SignalState.ACTIVE and signal.quarantined_at is None
