"""The database itself refuses a status the hub does not know (CHECK constraints, migration
0007), on SQLite and on PostgreSQL, and accepts every one it does."""

from __future__ import annotations

from enum import StrEnum

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from redress.core.clock import ManualClock
from redress.db import make_engine, make_session_factory, unit_of_work
from redress.hub.bank.models import HoldState, ItemState, SignalState
from redress.hub.cases.models import CaseState
from redress.hub.feedback.models import Verdict
from redress.hub.participants.models import ParticipantState
from tests.hub.factories import make_case, make_participant, make_signal

#: (table, status column, the statuses the hub uses)
COLUMNS: list[tuple[str, str, type[StrEnum]]] = [
    ("cases", "status", CaseState),
    ("items", "status", ItemState),
    ("signals", "status", SignalState),
    ("participants", "status", ParticipantState),
    ("feedback", "value", Verdict),
    ("holds", "status", HoldState),
]


def _one_of_each(url: str) -> None:
    """A row in every table with a status column."""
    clock = ManualClock()
    sessions = make_session_factory(make_engine(url))
    with unit_of_work(sessions) as session:
        make_case(session, clock=clock)
        signal = make_signal(session, clock=clock)
        platform, _ = make_participant(session, clock=clock)
        session.execute(
            text(
                "INSERT INTO feedback (participant_id, signal_id, value, tags, updated_at) "
                "VALUES (:p, :s, 'Blocked', '', :at)"
            ),
            {"p": platform.id, "s": signal.id, "at": clock.now()},
        )
        session.execute(
            text(
                "INSERT INTO holds (reason, status, created_at, updated_at, cases, signals) "
                "VALUES ('size', 'pending', :at, :at, 0, 0)"
            ),
            {"at": clock.now()},
        )


@pytest.mark.parametrize(("table", "column", "states"), COLUMNS, ids=[c[0] for c in COLUMNS])
def test_an_unknown_status_is_refused_by_the_database(  # type: ignore[no-untyped-def]
    database_url, table, column, states
) -> None:
    _one_of_each(database_url)
    engine = make_engine(database_url)
    try:
        for state in states:  # every status the hub uses is accepted
            with engine.begin() as connection:
                connection.execute(text(f"UPDATE {table} SET {column} = :v"), {"v": state.value})
        refused = pytest.raises(IntegrityError, match=f"ck_{table}_{column}")
        with refused, engine.begin() as connection:
            connection.execute(text(f"UPDATE {table} SET {column} = 'bogus'"))
        with engine.connect() as connection:
            left = connection.execute(text(f"SELECT DISTINCT {column} FROM {table}")).scalars()
            assert list(left) == [list(states)[-1].value]  # the refused change left nothing
    finally:
        engine.dispose()
