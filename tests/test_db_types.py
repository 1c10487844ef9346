"""`UtcDateTime`: aware in, aware out, on SQLite and PostgreSQL alike; naive values refused."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import Column, Integer, MetaData, Table, insert, select
from sqlalchemy.exc import StatementError

from redress.db import make_engine
from redress.db.types import UtcDateTime


@pytest.fixture(params=["sqlite", "postgresql"])
def engine_url(request: pytest.FixtureRequest, tmp_path: object) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/types.db"
    return str(request.getfixturevalue("postgres_server"))


def test_moments_come_back_aware_and_in_utc(engine_url: str) -> None:
    metadata = MetaData()
    table = Table(
        "moments", metadata, Column("id", Integer, primary_key=True), Column("at", UtcDateTime)
    )
    engine = make_engine(engine_url)
    metadata.drop_all(engine)
    metadata.create_all(engine)
    paris = timezone(timedelta(hours=1))
    written = datetime(2026, 5, 19, 13, 30, tzinfo=paris)
    with engine.begin() as connection:
        connection.execute(insert(table).values(id=1, at=written))
        read = connection.execute(select(table.c.at)).scalar_one()
    assert read.tzinfo is not None and read.utcoffset() == timedelta(0)
    assert read == written
    assert read.hour == 12  # stored as the same moment, expressed in UTC
    metadata.drop_all(engine)


def test_a_naive_moment_is_refused(engine_url: str) -> None:
    metadata = MetaData()
    table = Table(
        "naive", metadata, Column("id", Integer, primary_key=True), Column("at", UtcDateTime)
    )
    engine = make_engine(engine_url)
    metadata.drop_all(engine)
    metadata.create_all(engine)
    with pytest.raises(StatementError, match="naive datetime"), engine.begin() as connection:
        connection.execute(insert(table).values(id=1, at=datetime(2026, 1, 1)))
    with engine.begin() as connection:  # the aware form of the same moment is stored
        connection.execute(insert(table).values(id=1, at=datetime(2026, 1, 1, tzinfo=UTC)))
        assert connection.execute(select(table.c.at)).scalar_one().tzinfo is not None
    metadata.drop_all(engine)
