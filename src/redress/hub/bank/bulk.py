"""Bulk statements for the bank: many rows in one statement, values as one parameter, no
per-row work in SQLAlchemy. A big case creation runs these inside the database's write lock
(on SQLite, every other writer waits), so they are kept to a fixed number of statements."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import UTC
from typing import Any, cast

from sqlalchemy import (
    BigInteger,
    DateTime,
    Integer,
    Table,
    Text,
    any_,
    bindparam,
    func,
    select,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from redress.core.clock import Clock
from redress.hub.bank.models import Signal, SignalState
from redress.hub.db import Base


def table_of(model: type[Base]) -> Table:
    """The model's table, for Core statements (no ORM bookkeeping per row)."""
    return cast(Table, model.__table__)


def one_of(session: Session, column: Any, values: Sequence[Any]) -> Any:
    """`column IN values` with the values as one parameter (a JSON array read by `json_each`
    on SQLite, an array on PostgreSQL): one statement, compiled in microseconds, however many
    values — no per-value placeholders, no chunking."""
    if session.get_bind().dialect.name == "postgresql":
        element = BigInteger() if isinstance(column.type, Integer) else Text()
        return column == any_(bindparam(None, list(values), type_=ARRAY(element)))
    table = func.json_each(bindparam(None, json.dumps(list(values)))).table_valued("value")
    return column.in_(select(table.c.value))


def timestamp_now(session: Session, clock: Clock) -> Any:
    """The clock's time (UTC), as the driver takes it for a timestamp column (SQLite: the text
    SQLAlchemy stores)."""
    dialect = session.get_bind().dialect
    processor = DateTime(timezone=True).dialect_impl(dialect).bind_processor(dialect)
    moment = clock.now().astimezone(UTC)
    return processor(moment) if processor else moment


def insert_many(
    session: Session,
    table: str,
    columns: Sequence[str],
    rows: Sequence[tuple[Any, ...]],
    *,
    suffix: str = "",
) -> None:
    """One driver-level executemany: no per-row work in SQLAlchemy (this is the hot path of a
    big case creation, inside the write lock)."""
    if not rows:
        return
    connection = session.connection()
    marker = "?" if connection.dialect.paramstyle == "qmark" else "%s"
    values = ", ".join([marker] * len(columns))
    # Table and column names are constants of this module, never input; values are parameters.
    statement = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({values}){suffix}"  # noqa: S608
    connection.exec_driver_sql(statement, list(rows))


def _lookup(session: Session, wanted: Iterable[tuple[str, str]]) -> dict[tuple[str, str], int]:
    by_type: dict[str, list[str]] = {}
    for kind, value in wanted:
        by_type.setdefault(kind, []).append(value)
    found: dict[tuple[str, str], int] = {}
    for kind, values in sorted(by_type.items()):
        rows = session.execute(
            select(Signal.id, Signal.value).where(
                Signal.type == kind, one_of(session, Signal.value, values)
            )
        )
        found.update(((kind, value), signal_id) for signal_id, value in rows)
    return found


def intern_signals(
    session: Session, wanted: Iterable[tuple[str, str]], *, clock: Clock
) -> dict[tuple[str, str], int]:
    """The bank's row ids for (kind, value) pairs, creating the new ones `unpublished` (safe
    under concurrent inserts: a clash is skipped, and the row read back). Two statements per
    signal type, whatever the number of signals."""
    wanted = sorted(set(wanted))
    if not wanted:
        return {}
    stamp, when = int(clock.now().timestamp()), timestamp_now(session, clock)
    insert_many(
        session,
        "signals",
        ("type", "value", "status", "created_at", "modified_at", "dispute_cleared"),
        # New signals are on the feed (active) only when published.
        [
            (kind, value, SignalState.UNPUBLISHED.value, when, stamp, False)
            for kind, value in wanted
        ],
        suffix=" ON CONFLICT (type, value) DO NOTHING",
    )
    return _lookup(session, wanted)


def expire_signals(session: Session, signal_ids: set[int]) -> None:
    """Signals changed by a bulk UPDATE are re-read when next used (keep loaded rows true)."""
    for loaded in list(session.identity_map.values()):
        if isinstance(loaded, Signal) and loaded.id in signal_ids:
            session.expire(loaded, ["status", "modified_at"])
