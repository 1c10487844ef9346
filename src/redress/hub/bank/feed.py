"""The feed's state machine: a signal goes on the feed (`add` entries) while an active item holds
it and it is not quarantined, and off it (`remove` entries) otherwise. Every change appends to the
append-only feed that platforms follow.

Feed order is commit order. On PostgreSQL every transaction that appends takes one
transaction-scoped advisory lock before its first entry and keeps it until commit, so a reader
can never see entry n+1 before entry n (a cursor never skips an entry that commits late).
SQLite serialises writers by itself (`BEGIN IMMEDIATE`).
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select, text, update
from sqlalchemy.orm import Session, joinedload

from redress.core.clock import Clock
from redress.hub.bank.bulk import expire_signals, insert_many, one_of, timestamp_now
from redress.hub.bank.models import FeedEntry, Item, ItemSignal, ItemState, Signal, SignalState

_FEED_LOCK = 7_263_001
_LOCK_FLAG = "redress_feed_locked"


def publish(
    session: Session,
    additions: Sequence[tuple[int, str, str | None]],
    *,
    reason: str,
    clock: Clock,
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
    append_many(
        session,
        SignalState.ACTIVE,
        [("add", reason, signal_id, ref, variant) for signal_id, ref, variant in live],
        clock=clock,
    )


def append_many(
    session: Session,
    status: SignalState,
    entries: list[tuple[str, str, int, str, str | None]],
    *,
    clock: Clock,
) -> None:
    """Set the entries' signals to `status` and append the entries (op, reason, signal id, item
    reference, variant) to the feed under its lock: two bulk statements however many."""
    lock_feed(session)
    signal_ids = sorted({entry[2] for entry in entries})
    session.execute(
        update(Signal)
        .where(one_of(session, Signal.id, signal_ids))
        .values(status=status.value, modified_at=int(clock.now().timestamp()))
        .execution_options(synchronize_session=False)
    )
    expire_signals(session, set(signal_ids))
    when = timestamp_now(session, clock)
    insert_many(
        session,
        "feed_entries",
        ("op", "reason", "signal_id", "item_ref", "variant", "created_at"),
        [(*entry, when) for entry in entries],
    )


def active_holders(session: Session, signal: Signal) -> int:
    """How many active items hold `signal`."""
    return (
        session.scalar(
            select(func.count())
            .select_from(ItemSignal)
            .join(Item, Item.id == ItemSignal.item_id)
            .where(ItemSignal.signal_id == signal.id, Item.status == ItemState.ACTIVE)
        )
        or 0
    )


def refresh_signal(
    session: Session,
    signal: Signal,
    item_ref: str,
    *,
    reason: str,
    clock: Clock,
    announce_holder: bool = False,
    variant: str | None = None,
) -> None:
    """Bring `signal.status` in line with its holders and quarantine, appending feed entries.

    `variant` marks an added signal derived from the item's original (see docs/variants.md).
    """
    should_be_active = signal.quarantined_at is None and active_holders(session, signal) > 0
    if should_be_active and (signal.status != SignalState.ACTIVE or announce_holder):
        signal.status = SignalState.ACTIVE
        append_entry(session, "add", reason, signal, item_ref, variant, clock=clock)
    elif not should_be_active and signal.status == SignalState.ACTIVE:
        signal.status = (
            SignalState.QUARANTINED if signal.quarantined_at is not None else SignalState.WITHDRAWN
        )
        append_entry(session, "remove", reason, signal, item_ref, clock=clock)


def quarantine(session: Session, signal: Signal, *, clock: Clock) -> None:
    """Take a disputed signal off the feed (kept in the bank, restorable)."""
    signal.quarantined_at = clock.now()
    refresh_signal(session, signal, any_item_ref(session, signal), reason="quarantine", clock=clock)


def restore(session: Session, signal: Signal, *, clock: Clock) -> None:
    """Staff confirmed a disputed signal: back on the feed (if held), never disputed again."""
    signal.quarantined_at = None
    signal.dispute_cleared = True
    refresh_signal(session, signal, any_item_ref(session, signal), reason="restored", clock=clock)


def any_item_ref(session: Session, signal: Signal) -> str:
    """The reference of an item holding `signal` (an active one first), for its feed entries."""
    ref = session.scalar(
        select(Item.ref)
        .join(ItemSignal, ItemSignal.item_id == Item.id)
        .where(ItemSignal.signal_id == signal.id)
        .order_by(Item.status, Item.id)
        .limit(1)
    )
    return ref or ""


def touch(signal: Signal, *, clock: Clock) -> None:
    """Mark the signal as changed for the time-ordered (StopNCII-compatible) export."""
    signal.modified_at = int(clock.now().timestamp())


def lock_feed(session: Session) -> None:
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
    *,
    clock: Clock,
) -> None:
    """Append a feed entry, holding the feed lock until this transaction commits."""
    lock_feed(session)
    touch(signal, clock=clock)
    session.add(
        FeedEntry(
            op=op,
            reason=reason,
            signal_id=signal.id,
            item_ref=item_ref,
            variant=variant,
            created_at=clock.now(),
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
