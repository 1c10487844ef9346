"""Reading the bank for the other domains: a signal by type and value (the one `find_signal`),
a case's items and their signals, who holds a signal, and signals in export order. Used through
`redress.hub.bank.service`."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from redress.hub.bank.bulk import one_of
from redress.hub.bank.models import Item, ItemSignal, ItemState, Signal, SignalState


def find_signal(
    session: Session, kind: str, value: str, *, published: bool = False
) -> Signal | None:
    """The bank's signal of this type and (canonical) value; with `published`, only one that
    platforms know (a signal held for review is not on the feed, so unknown to them)."""
    query = select(Signal).where(Signal.type == kind, Signal.value == value)
    if published:
        query = query.where(Signal.status != SignalState.UNPUBLISHED)
    return session.scalar(query)


def case_items(session: Session, case_id: int, ref: str | None = None) -> list[Item]:
    """A case's items in order (or only the one with reference `ref`)."""
    query = select(Item).where(Item.case_id == case_id)
    if ref is not None:
        query = query.where(Item.ref == ref)
    return list(session.scalars(query.order_by(Item.id)))


def case_item_count(session: Session, case_id: int) -> int:
    """How many items the case holds (withdrawn ones included)."""
    return int(session.scalar(select(func.count()).where(Item.case_id == case_id)) or 0)


def case_item_signals(session: Session, case_id: int) -> list[tuple[int, int, bool]]:
    """(item id, signal id, quarantined) for every signal every item of the case holds."""
    rows = session.execute(
        select(ItemSignal.item_id, ItemSignal.signal_id, Signal.quarantined_at.is_not(None))
        .join(Signal, Signal.id == ItemSignal.signal_id)
        .join(Item, Item.id == ItemSignal.item_id)
        .where(Item.case_id == case_id)
    )
    return [(item_id, signal_id, bool(paused)) for item_id, signal_id, paused in rows]


def holders(session: Session, signal_ids: Sequence[int]) -> dict[int, list[tuple[str, str]]]:
    """Per signal, the (reference, status) of the active or withdrawn items holding it."""
    found: dict[int, list[tuple[str, str]]] = {signal_id: [] for signal_id in signal_ids}
    if not signal_ids:
        return found
    rows = session.execute(
        select(ItemSignal.signal_id, Item.ref, Item.status)
        .join(ItemSignal, ItemSignal.item_id == Item.id)
        .where(
            one_of(session, ItemSignal.signal_id, list(signal_ids)),
            Item.status.in_([ItemState.ACTIVE, ItemState.WITHDRAWN]),
        )
        .order_by(ItemSignal.signal_id, Item.id)
    )
    for signal_id, ref, status in rows:
        found[signal_id].append((ref, status))
    return found


def changed_signals(
    session: Session,
    *,
    kinds: Sequence[str],
    since: int,
    after: tuple[int, int] | None,
    limit: int,
) -> list[Signal]:
    """Published signals of these types changed at or after `since` (Unix seconds), in
    (time, id) order, after the (time, id) `after`; at most `limit`."""
    query = select(Signal).where(
        Signal.type.in_(list(kinds)),
        Signal.modified_at >= since,
        Signal.status != SignalState.UNPUBLISHED,  # held for review, or never released
    )
    if after is not None:
        query = query.where(
            or_(
                Signal.modified_at > after[0],
                and_(Signal.modified_at == after[0], Signal.id > after[1]),
            )
        )
    return list(session.scalars(query.order_by(Signal.modified_at, Signal.id).limit(limit)))


def signal_by_id(session: Session, signal_id: int) -> Signal | None:
    """The signal with this id."""
    return session.get(Signal, signal_id)


def signals_by_id(session: Session, signal_ids: Sequence[int]) -> list[Signal]:
    """These signals, in id order."""
    if not signal_ids:
        return []
    query = select(Signal).where(one_of(session, Signal.id, list(signal_ids)))
    return list(session.scalars(query.order_by(Signal.id)))


def awaiting_review(session: Session, reported: Sequence[int]) -> list[Signal]:
    """Signals waiting for staff review: quarantined, or among `reported` (over-matching) and
    not yet confirmed by staff; in id order."""
    condition = Signal.quarantined_at.is_not(None)
    if reported:
        condition = condition | (
            one_of(session, Signal.id, sorted(set(reported))) & Signal.dispute_cleared.is_(False)
        )
    return list(session.scalars(select(Signal).where(condition).order_by(Signal.id)))
