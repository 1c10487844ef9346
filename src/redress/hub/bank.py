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
from typing import Any

from sqlalchemy import func, insert, select, text, update
from sqlalchemy.orm import Session, joinedload

from redress.config import Settings
from redress.hashing.errors import InvalidSignalError
from redress.hashing.signal_types import PdqSignal, VpdqSignal, get_signal_type
from redress.hub.bulk import (
    expire_signals,
    insert_many,
    intern_signals,
    one_of,
    table_of,
    timestamp_now,
)
from redress.hub.errors import HubError
from redress.hub.events import now, record_events
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
        insert(table_of(Item)),
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
        for item in session.scalars(select(Item).where(one_of(session, Item.ref, refs)))
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
    insert_many(
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
                one_of(session, Signal.id, signal_ids), Signal.quarantined_at.is_not(None)
            )
        )
    )
    live = [entry for entry in additions if entry[0] not in paused]
    if not live:
        return
    _append_to_feed(
        session,
        "active",
        [("add", reason, signal_id, ref, variant) for signal_id, ref, variant in live],
    )


def _append_to_feed(
    session: Session, status: str, entries: list[tuple[str, str, int, str, str | None]]
) -> None:
    """Set the entries' signals to `status` and append the entries (op, reason, signal id, item
    reference, variant) to the feed under its lock: two bulk statements however many."""
    _lock_feed(session)
    signal_ids = sorted({entry[2] for entry in entries})
    session.execute(
        update(Signal)
        .where(one_of(session, Signal.id, signal_ids))
        .values(status=status, modified_at=int(time.time()))
        .execution_options(synchronize_session=False)
    )
    expire_signals(session, set(signal_ids))
    when = timestamp_now(session)
    insert_many(
        session,
        "feed_entries",
        ("op", "reason", "signal_id", "item_ref", "variant", "created_at"),
        [(*entry, when) for entry in entries],
    )


def withdraw_items(session: Session, items: Sequence[Item], *, actor: str) -> None:
    """Withdraw items; each signal leaves the feed (one `remove` entry, under the item that
    held it) unless another active item still holds it. Bulk statements, as for adding."""
    moment = now()
    leaving = [item for item in items if item.status != "withdrawn"]
    if not leaving:
        return
    for item in leaving:
        item.status, item.withdrawn_at = "withdrawn", moment
    session.flush()
    record_events(
        session,
        actor=actor,
        action="item.withdrawn",
        subjects=[f"item:{item.id}" for item in leaving],
    )
    ref_of = {item.id: item.ref for item in leaving}
    links = session.execute(
        select(ItemSignal.item_id, ItemSignal.signal_id)
        .where(one_of(session, ItemSignal.item_id, list(ref_of)))
        .order_by(ItemSignal.item_id, ItemSignal.id)
    ).all()
    signal_ids = sorted({signal_id for _, signal_id in links})
    if not signal_ids:
        return
    still_held = set(
        session.scalars(
            select(ItemSignal.signal_id)
            .join(Item, Item.id == ItemSignal.item_id)
            .where(one_of(session, ItemSignal.signal_id, signal_ids), Item.status == "active")
        )
    )
    on_feed = set(
        session.scalars(
            select(Signal.id).where(
                one_of(session, Signal.id, signal_ids), Signal.status == "active"
            )
        )
    )
    removals: dict[int, str] = {}
    for item_id, signal_id in links:
        if signal_id in on_feed and signal_id not in still_held and signal_id not in removals:
            removals[signal_id] = ref_of[item_id]
    if not removals:
        return
    _append_to_feed(
        session,
        "withdrawn",
        [("remove", "withdrawn", s, ref, None) for s, ref in removals.items()],
    )


def withdraw_item(session: Session, item: Item, *, actor: str) -> None:
    """Withdraw an item; its signals leave the feed unless another active item holds them."""
    withdraw_items(session, [item], actor=actor)


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
