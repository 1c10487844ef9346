"""The hash bank and its feed: distinct signals, which items hold them, and the append-only
sequence of additions and removals that platforms follow.

Feed order is commit order. On PostgreSQL every transaction that appends takes one
transaction-scoped advisory lock before its first entry and keeps it until commit, so a reader
can never see entry n+1 before entry n (a cursor never skips an entry that commits late).
SQLite serialises writers by itself (`BEGIN IMMEDIATE`).
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, joinedload

from redress.hashing.errors import InvalidSignalError
from redress.hashing.signal_types import PdqSignal, VpdqSignal, get_signal_type
from redress.hub.errors import HubError
from redress.hub.events import now, record_event
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


def validate_items(items: Sequence[ItemIn], limit: int) -> list[list[ValidSignal]]:
    """Normalise every signal of every item; refuse unknown types, bad values, low quality."""
    if len(items) > limit:
        raise HubError(
            413, "too_many_items", f"At most {limit} items per request; send the rest separately."
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


def intern_signal(session: Session, kind: str, value: str) -> Signal:
    """The bank's row for (kind, value), created if new (safe under concurrent inserts)."""
    existing = session.scalar(select(Signal).where(Signal.type == kind, Signal.value == value))
    if existing is not None:
        return existing
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = (
        insert(Signal)
        .values(
            type=kind,
            value=value,
            status="withdrawn",  # becomes active when an item holding it is added
            created_at=now(),
            modified_at=int(time.time()),
            dispute_cleared=False,
        )
        .on_conflict_do_nothing(index_elements=["type", "value"])
    )
    session.execute(statement)
    found = session.scalar(select(Signal).where(Signal.type == kind, Signal.value == value))
    assert found is not None
    return found


def add_item(
    session: Session,
    signals: Sequence[ValidSignal],
    *,
    case_id: int | None = None,
    participant_id: int | None = None,
    actor: str,
) -> Item:
    """A new active item holding `signals`; each signal is (re)announced on the feed."""
    item = Item(
        ref=new_item_ref(),
        case_id=case_id,
        participant_id=participant_id,
        status="active",
        created_at=now(),
    )
    session.add(item)
    session.flush()
    rows: list[tuple[Signal, str | None]] = []
    for valid in signals:
        signal = intern_signal(session, valid.type, valid.value)
        if any(row.id == signal.id for row, _ in rows):
            continue
        rows.append((signal, valid.variant))
        session.add(
            ItemSignal(
                item_id=item.id, signal_id=signal.id, quality=valid.quality, variant=valid.variant
            )
        )
    session.flush()
    record_event(session, actor=actor, action="item.added", subject=f"item:{item.id}")
    for signal, variant in rows:
        refresh_signal(
            session, signal, item.ref, reason="added", announce_holder=True, variant=variant
        )
    return item


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


def append_entry(
    session: Session,
    op: str,
    reason: str,
    signal: Signal,
    item_ref: str,
    variant: str | None = None,
) -> None:
    """Append a feed entry, holding the feed lock until this transaction commits."""
    if session.get_bind().dialect.name == "postgresql" and not session.info.get(_LOCK_FLAG):
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _FEED_LOCK})
        session.info[_LOCK_FLAG] = True  # sessions live for one unit of work
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
