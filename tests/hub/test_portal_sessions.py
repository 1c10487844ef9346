"""Portal sign-in sessions as stored by the hub: only a hash of the token, idle and absolute
limits on an injected clock, ending one session or all of a case's, and the clean-up."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from redress.core.clock import ManualClock
from redress.db import make_engine, make_session_factory, unit_of_work
from redress.hub.cases import portal_sessions
from redress.hub.cases import service as cases
from redress.hub.models import Case, PortalSession
from tests.hub.conftest import PDQ_A, PDQ_B, RunningHub, pdq

T0 = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
LIMITS = portal_sessions.SessionLimits.minutes(absolute=20, idle=10)


@contextmanager
def database(hub: RunningHub) -> Iterator[Session]:
    """One transaction on the hub's database (open it after the HTTP calls: SQLite locks)."""
    engine = make_engine(hub.settings.database_url)
    try:
        with unit_of_work(make_session_factory(engine)) as session:
            yield session
    finally:
        engine.dispose()


def _case_id(session: Session, number: str) -> int:
    return int(session.scalars(select(Case.id).where(Case.case_number == number)).one())


def test_only_a_hash_of_the_token_is_stored(hub: RunningHub) -> None:
    number = hub.create_case([pdq()])["case_number"]
    with database(hub) as session:
        _only_a_hash(session, _case_id(session, number))


def _only_a_hash(session: Session, case_id: int) -> None:
    token = portal_sessions.start(session, case_id, LIMITS, T0)
    session.flush()
    row = session.scalars(select(PortalSession)).one()
    assert row.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in {row.token_hash, str(row.id)}
    assert portal_sessions.resolve(session, token, LIMITS, T0) == case_id
    assert portal_sessions.resolve(session, token + "x", LIMITS, T0) is None
    assert portal_sessions.resolve(session, row.token_hash, LIMITS, T0) is None  # no replay


def test_idle_and_absolute_limits(hub: RunningHub) -> None:
    number = hub.create_case([pdq()])["case_number"]
    with database(hub) as session:
        _limits(session, _case_id(session, number))


def _limits(session: Session, case_id: int) -> None:
    token = portal_sessions.start(session, case_id, LIMITS, T0)
    # Used every 9 minutes it never goes idle...
    for minutes in (9, 18):
        assert portal_sessions.resolve(session, token, LIMITS, T0 + timedelta(minutes=minutes))
    # ...but it ends 20 minutes after sign-in all the same.
    assert portal_sessions.resolve(session, token, LIMITS, T0 + timedelta(minutes=20)) is None
    idle = portal_sessions.start(session, case_id, LIMITS, T0)
    assert portal_sessions.resolve(session, idle, LIMITS, T0 + timedelta(minutes=9, seconds=59))
    later = T0 + timedelta(minutes=9, seconds=59) + timedelta(minutes=10)
    assert portal_sessions.resolve(session, idle, LIMITS, later) is None


def test_the_idle_limit_is_never_longer_than_the_absolute_one() -> None:
    limits = portal_sessions.SessionLimits.minutes(absolute=5, idle=30)
    assert limits.idle == limits.absolute == timedelta(minutes=5)


def test_end_and_withdrawal_end_sessions(hub: RunningHub) -> None:
    numbers = [hub.create_case([pdq(value)])["case_number"] for value in (PDQ_A, PDQ_B)]
    with database(hub) as session:
        _ending(session, *(_case_id(session, number) for number in numbers))


def _ending(session: Session, mine: int, other: int) -> None:
    phone, laptop = (portal_sessions.start(session, mine, LIMITS, T0) for _ in range(2))
    bystander = portal_sessions.start(session, other, LIMITS, T0)
    assert portal_sessions.end(session, phone, T0)
    assert not portal_sessions.end(session, phone, T0)  # already ended
    assert portal_sessions.resolve(session, phone, LIMITS, T0) is None
    assert portal_sessions.resolve(session, laptop, LIMITS, T0) == mine
    case = cases.load_case(session, mine)
    item = case.items[0].ref
    cases.withdraw(session, case, item, clock=ManualClock(T0))  # one item: the sign-in goes on
    assert portal_sessions.resolve(session, laptop, LIMITS, T0) == mine
    cases.withdraw(
        session, case, None, clock=ManualClock(T0)
    )  # the whole case: every device is signed out
    assert portal_sessions.resolve(session, laptop, LIMITS, T0) is None
    assert portal_sessions.resolve(session, bystander, LIMITS, T0) == other


def test_ended_and_expired_sessions_are_deleted_at_the_next_sign_in(hub: RunningHub) -> None:
    number = hub.create_case([pdq()])["case_number"]
    with database(hub) as session:
        _clean_up(session, _case_id(session, number))


def _clean_up(session: Session, case_id: int) -> None:
    ended = portal_sessions.start(session, case_id, LIMITS, T0)
    portal_sessions.start(session, case_id, LIMITS, T0)  # expires at T0 + 20 min
    live = portal_sessions.start(session, case_id, LIMITS, T0 + timedelta(minutes=15))
    portal_sessions.end(session, ended, T0)
    session.flush()
    assert session.scalar(select(func.count()).select_from(PortalSession)) == 3
    newest = portal_sessions.start(session, case_id, LIMITS, T0 + timedelta(minutes=21))
    session.flush()
    left = set(session.scalars(select(PortalSession.token_hash)))
    assert left == {hashlib.sha256(t.encode()).hexdigest() for t in (live, newest)}


def test_use_is_written_at_most_every_half_minute(hub: RunningHub) -> None:
    number = hub.create_case([pdq()])["case_number"]
    with database(hub) as session:
        _touch(session, _case_id(session, number))


def _last_seen(session: Session, token: str) -> datetime:
    digest = hashlib.sha256(token.encode()).hexdigest()
    session.flush()
    row = session.scalars(select(PortalSession).where(PortalSession.token_hash == digest)).one()
    return row.last_seen_at  # UtcDateTime: aware on both databases


def _touch(session: Session, case_id: int) -> None:
    token = portal_sessions.start(session, case_id, LIMITS, T0)
    seconds = timedelta(seconds=1)
    assert portal_sessions.resolve(session, token, LIMITS, T0 + 29 * seconds) == case_id
    assert _last_seen(session, token) == T0  # not written: the idle limit still runs from T0
    assert portal_sessions.resolve(session, token, LIMITS, T0 + 30 * seconds) == case_id
    assert _last_seen(session, token) == T0 + 30 * seconds
    # Idle for 10 minutes less a second since then: still live, and written again.
    at = T0 + 30 * seconds + timedelta(minutes=10) - seconds
    assert portal_sessions.resolve(session, token, LIMITS, at) == case_id
    assert _last_seen(session, token) == at
    # A session used only within its first half minute goes idle from its sign-in.
    quick = portal_sessions.start(session, case_id, LIMITS, T0)
    assert portal_sessions.resolve(session, quick, LIMITS, T0 + 29 * seconds) == case_id
    assert portal_sessions.resolve(session, quick, LIMITS, T0 + timedelta(minutes=10)) is None


def test_ending_a_case_and_purging_count_what_they_did(hub: RunningHub) -> None:
    numbers = [hub.create_case([pdq(value)])["case_number"] for value in (PDQ_A, PDQ_B)]
    with database(hub) as session:
        _counts(session, *(_case_id(session, number) for number in numbers))


def _counts(session: Session, mine: int, other: int) -> None:
    ended, _live, _also = (portal_sessions.start(session, mine, LIMITS, T0) for _ in range(3))
    theirs = portal_sessions.start(session, other, LIMITS, T0)
    assert portal_sessions.end(session, ended, T0)
    assert portal_sessions.end_case(session, mine, T0) == 2  # the one already ended not again
    assert portal_sessions.end_case(session, mine, T0) == 0
    assert portal_sessions.resolve(session, theirs, LIMITS, T0) == other
    assert portal_sessions.purge(session, T0) == 3  # the case's three ended sessions
    assert portal_sessions.purge(session, T0 + timedelta(minutes=19)) == 0
    assert portal_sessions.purge(session, T0 + timedelta(minutes=20)) == 1  # at its absolute end
