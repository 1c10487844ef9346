"""The hash bank and its feed: distinct signals, which items hold them, and the append-only
sequence of additions and removals that platforms follow.

Feed order is commit order. On PostgreSQL every transaction that appends takes one
transaction-scoped advisory lock before its first entry and keeps it until commit, so a reader
can never see entry n+1 before entry n (a cursor never skips an entry that commits late).
SQLite serialises writers by itself (`BEGIN IMMEDIATE`).
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
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
    insert,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session, joinedload

from redress.config import Settings
from redress.db import Base
from redress.hashing.errors import InvalidSignalError
from redress.hashing.signal_types import PdqSignal, VpdqSignal, get_signal_type
from redress.hub.errors import HubError
from redress.hub.events import now, record_event, record_events
from redress.hub.models import FeedEntry, Item, ItemSignal, Signal
from redress.hub.schemas import ItemIn

_FEED_LOCK = 7_263_001
_LOCK_FLAG = "redress_feed_locked"


@dataclass(frozen=True, slots=True)
class ValidSignal:
    """A submitted signal after validation by the hashing core."""

    type: str
    value: str
    quality: int | None
    variant: str | None


def validate_items(items: Sequence[ItemIn], settings: Settings) -> list[list[ValidSignal]]:
    """Normalise every signal of every item; refuse too many items or signals, unknown types,
    bad values, low quality."""
    limit = settings.max_items_per_request
    if len(items) > limit:
        raise HubError(
            413, "too_many_items", f"At most {limit} items per request; send the rest separately."
        )
    per_item = settings.max_signals_per_item
    for i, item in enumerate(items, start=1):
        if len(item.signals) > per_item:
            raise HubError(
                422,
                "too_many_signals",
                f"item {i} has {len(item.signals)} signals; at most {per_item} per item are "
                "accepted (a picture's original hash and its variants, or a video's hashes). "
                "Send each picture or video as its own item.",
            )
    validated = []
    for i, item in enumerate(items, start=1):
        signals = []
        for j, signal in enumerate(item.signals, start=1):
            where = f"item {i}, signal {j}"
            try:
                kind = get_signal_type(signal.type)
                value = kind.normalize(signal.value)
            except InvalidSignalError as exc:
                raise HubError(422, "invalid_signal", f"{where}: {exc.message}") from None
            if kind.name == "pdq" and signal.quality is not None and signal.quality < 50:
                raise HubError(
                    422,
                    "low_quality",
                    f"{where}: PDQ quality {signal.quality} is below "
                    f"{PdqSignal.min_quality}; the picture is too flat to match reliably. Try "
                    "another copy of the image.",
                )
            if kind.name == "vpdq" and all(
                frame.quality < VpdqSignal.quality_threshold for frame in VpdqSignal().parse(value)
            ):
                raise HubError(
                    422, "low_quality", f"{where}: no frame of this video hashed with quality 50+."
                )
            signals.append(ValidSignal(kind.name, value, signal.quality, signal.variant))
        validated.append(signals)
    return validated


def new_item_ref() -> str:
    """An opaque, random item reference: all a platform ever learns about an item."""
    return "i_" + secrets.token_hex(10)


def _table(model: type[Base]) -> Table:
    """The model's table, for Core statements (no ORM bookkeeping per row)."""
    return cast(Table, model.__table__)


def _one_of(session: Session, column: Any, values: Sequence[Any]) -> Any:
    """`column IN values` with the values as one parameter (a JSON array read by `json_each`
    on SQLite, an array on PostgreSQL): one statement, compiled in microseconds, however many
    values — no per-value placeholders, no chunking."""
    if session.get_bind().dialect.name == "postgresql":
        element = BigInteger() if isinstance(column.type, Integer) else Text()
        return column == any_(bindparam(None, list(values), type_=ARRAY(element)))
    table = func.json_each(bindparam(None, json.dumps(list(values)))).table_valued("value")
    return column.in_(select(table.c.value))


def _when(session: Session) -> Any:
    """Now, as the driver takes it for a timestamp column (SQLite: the text SQLAlchemy stores)."""
    dialect = session.get_bind().dialect
    processor = DateTime(timezone=True).dialect_impl(dialect).bind_processor(dialect)
    return processor(now()) if processor else now()


def _insert_many(
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
                Signal.type == kind, _one_of(session, Signal.value, values)
            )
        )
        found.update(((kind, value), signal_id) for signal_id, value in rows)
    return found


def intern_signals(
    session: Session, wanted: Iterable[tuple[str, str]]
) -> dict[tuple[str, str], int]:
    """The bank's row ids for (kind, value) pairs, creating the new ones `unpublished` (safe
    under concurrent inserts: a clash is skipped, and the row read back). Two statements per
    signal type, whatever the number of signals."""
    wanted = sorted(set(wanted))
    if not wanted:
        return {}
    stamp, when = int(time.time()), _when(session)
    _insert_many(
        session,
        "signals",
        ("type", "value", "status", "created_at", "modified_at", "dispute_cleared"),
        # New signals are on the feed (active) only when published.
        [(kind, value, "unpublished", when, stamp, False) for kind, value in wanted],
        suffix=" ON CONFLICT (type, value) DO NOTHING",
    )
    return _lookup(session, wanted)


def add_items(
    session: Session,
    items: Sequence[Sequence[ValidSignal]],
    *,
    case_id: int | None = None,
    participant_id: int | None = None,
    actor: str,
    held: bool = False,
) -> list[Item]:
    """New items holding these signals, each (re)announced on the feed — or, `held`, kept in
    the bank with status `held` and off the feed until staff release them
    (`redress.hub.flood`).

    Bulk statements throughout: the number of statements does not grow with the number of
    items or signals (past thousands of rows the driver batches them), so on SQLite the write
    lock is held for milliseconds.
    """
    moment = now()
    refs = [new_item_ref() for _ in items]
    session.flush()
    session.execute(
        insert(_table(Item)),
        [
            {
                "ref": ref,
                "case_id": case_id,
                "participant_id": participant_id,
                "status": "held" if held else "active",
                "created_at": moment,
            }
            for ref in refs
        ],
    )
    by_ref = {
        item.ref: item
        for item in session.scalars(select(Item).where(_one_of(session, Item.ref, refs)))
    }
    rows = [by_ref[ref] for ref in refs]
    ids = intern_signals(session, {(s.type, s.value) for signals in items for s in signals})
    links: list[dict[str, Any]] = []
    for item, signals in zip(rows, items, strict=True):
        seen: set[int] = set()
        for valid in signals:
            signal_id = ids[(valid.type, valid.value)]
            if signal_id in seen:
                continue
            seen.add(signal_id)
            links.append(
                {
                    "item_id": item.id,
                    "signal_id": signal_id,
                    "quality": valid.quality,
                    "variant": valid.variant,
                }
            )
    record_events(
        session, actor=actor, action="item.added", subjects=[f"item:{item.id}" for item in rows]
    )
    _insert_many(
        session,
        "item_signals",
        ("item_id", "signal_id", "quality", "variant"),
        [(link["item_id"], link["signal_id"], link["quality"], link["variant"]) for link in links],
    )
    if not held:
        ref_of = {item.id: item.ref for item in rows}
        publish(
            session,
            [(link["signal_id"], ref_of[link["item_id"]], link["variant"]) for link in links],
            reason="added",
        )
    session.flush()
    return rows


def add_item(
    session: Session,
    signals: Sequence[ValidSignal],
    *,
    case_id: int | None = None,
    participant_id: int | None = None,
    actor: str,
) -> Item:
    """A new active item holding `signals`; each signal is (re)announced on the feed."""
    return add_items(
        session, [signals], case_id=case_id, participant_id=participant_id, actor=actor
    )[0]


def publish(
    session: Session, additions: Sequence[tuple[int, str, str | None]], *, reason: str
) -> None:
    """Put signals on the feed for items that now hold them: one `add` entry per (signal id,
    item reference, variant), in order; quarantined signals stay off. Bulk statements."""
    if not additions:
        return
    signal_ids = sorted({signal_id for signal_id, _, _ in additions})
    paused = set(
        session.scalars(
            select(Signal.id).where(
                _one_of(session, Signal.id, signal_ids), Signal.quarantined_at.is_not(None)
            )
        )
    )
    live = [entry for entry in additions if entry[0] not in paused]
    if not live:
        return
    _lock_feed(session)
    stamp = int(time.time())
    live_ids = sorted({signal_id for signal_id, _, _ in live})
    session.execute(
        update(Signal)
        .where(_one_of(session, Signal.id, live_ids))
        .values(status="active", modified_at=stamp)
        .execution_options(synchronize_session=False)
    )
    changed = set(live_ids)
    for loaded in list(session.identity_map.values()):  # keep loaded rows in step
        if isinstance(loaded, Signal) and loaded.id in changed:
            session.expire(loaded, ["status", "modified_at"])
    when = _when(session)
    _insert_many(
        session,
        "feed_entries",
        ("op", "reason", "signal_id", "item_ref", "variant", "created_at"),
        [("add", reason, signal_id, ref, variant, when) for signal_id, ref, variant in live],
    )


def withdraw_item(session: Session, item: Item, *, actor: str) -> None:
    """Withdraw an item; its signals leave the feed unless another active item holds them."""
    if item.status == "withdrawn":
        return
    item.status = "withdrawn"
    item.withdrawn_at = now()
    session.flush()
    record_event(session, actor=actor, action="item.withdrawn", subject=f"item:{item.id}")
    for link in item.links:
        refresh_signal(session, link.signal, item.ref, reason="withdrawn")


def active_holders(session: Session, signal: Signal) -> int:
    """How many active items hold `signal`."""
    return (
        session.scalar(
            select(func.count())
            .select_from(ItemSignal)
            .join(Item, Item.id == ItemSignal.item_id)
            .where(ItemSignal.signal_id == signal.id, Item.status == "active")
        )
        or 0
    )


def refresh_signal(
    session: Session,
    signal: Signal,
    item_ref: str,
    *,
    reason: str,
    announce_holder: bool = False,
    variant: str | None = None,
) -> None:
    """Bring `signal.status` in line with its holders and quarantine, appending feed entries.

    `variant` marks an added signal derived from the item's original (see docs/variants.md).
    """
    should_be_active = signal.quarantined_at is None and active_holders(session, signal) > 0
    if should_be_active and (signal.status != "active" or announce_holder):
        signal.status = "active"
        append_entry(session, "add", reason, signal, item_ref, variant)
    elif not should_be_active and signal.status == "active":
        signal.status = "quarantined" if signal.quarantined_at is not None else "withdrawn"
        append_entry(session, "remove", reason, signal, item_ref)


def touch(signal: Signal) -> None:
    """Mark the signal as changed for the time-ordered (StopNCII-compatible) export."""
    signal.modified_at = int(time.time())


def _lock_feed(session: Session) -> None:
    """On PostgreSQL, take the feed lock until this transaction commits (see the module doc)."""
    if session.get_bind().dialect.name == "postgresql" and not session.info.get(_LOCK_FLAG):
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _FEED_LOCK})
        session.info[_LOCK_FLAG] = True  # sessions live for one unit of work


def append_entry(
    session: Session,
    op: str,
    reason: str,
    signal: Signal,
    item_ref: str,
    variant: str | None = None,
) -> None:
    """Append a feed entry, holding the feed lock until this transaction commits."""
    _lock_feed(session)
    touch(signal)
    session.add(
        FeedEntry(
            op=op,
            reason=reason,
            signal_id=signal.id,
            item_ref=item_ref,
            variant=variant,
            created_at=now(),
        )
    )
    session.flush()


def read_feed(session: Session, after: int, limit: int) -> tuple[list[FeedEntry], bool]:
    """Entries after sequence number `after`, oldest first, and whether more follow."""
    rows = list(
        session.scalars(
            select(FeedEntry)
            .options(joinedload(FeedEntry.signal))
            .where(FeedEntry.seq > after)
            .order_by(FeedEntry.seq)
            .limit(limit + 1)
        )
    )
    return rows[:limit], len(rows) > limit
