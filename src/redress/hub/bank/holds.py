"""Holds: new items kept off the feed for staff review when the flood safeguards say so
(`redress.hub.cases.intake` decides; see there for the signs). A held item is stored normally but
stays `held`: its signals are in the bank and in no feed until staff release the hold (the
entries are appended then, after every entry already there) or reject it (the items are
withdrawn; nothing reached a platform)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge
from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from redress.core.clock import Clock
from redress.hub.bank.bulk import table_of
from redress.hub.bank.errors import BankCode
from redress.hub.bank.feed import publish
from redress.hub.bank.models import Hold, HoldItem, HoldState, Item, ItemSignal, ItemState
from redress.hub.errors import HubError
from redress.hub.events import record_event

REASONS = ("size", "source", "volume")
HOLDS = Counter("redress_flood_holds_total", "Requests held for staff review", ["reason"])
HELD_SIGNALS = Gauge(
    "redress_held_signals", "Signals held back from the feed for staff review (pending holds)"
)
PENDING_HOLDS = Gauge("redress_pending_holds", "Holds waiting for staff review", ["reason"])


def pending_hold_of_case(session: Session, case_id: int) -> Hold | None:
    """The pending hold that already holds some of this case's items, if any."""
    return session.scalar(
        select(Hold)
        .join(HoldItem, HoldItem.hold_id == Hold.id)
        .join(Item, Item.id == HoldItem.item_id)
        .where(Item.case_id == case_id, Hold.status == HoldState.PENDING)
        .order_by(Hold.id.desc())
        .limit(1)
    )


def hold(
    session: Session,
    reason: str,
    *,
    items: list[Item],
    case_id: int,
    new_case: bool,
    signals: int,
    source: str | None,
    clock: Clock,
    into: Hold | None = None,
) -> Hold:
    """Put `items` (created `held`) under review: in `into`, or the open hold for this reason
    (and, for `source`, this address), or a new one."""
    moment = clock.now()
    key = source if reason == "source" else None
    target = into or session.scalar(
        select(Hold)
        .where(Hold.status == HoldState.PENDING, Hold.reason == reason, Hold.source == key)
        .order_by(Hold.id.desc())
        .limit(1)
    )
    if target is None:
        target = Hold(
            reason=reason,
            source=key,
            status=HoldState.PENDING,
            created_at=moment,
            updated_at=moment,
            cases=0,
            signals=0,
        )
        session.add(target)
        session.flush()
    target.cases += 1 if new_case else 0
    target.signals += signals
    target.updated_at = moment
    if items:
        session.execute(
            insert(table_of(HoldItem)),
            [{"hold_id": target.id, "item_id": item.id} for item in items],
        )
    record_event(
        session,
        clock=clock,
        actor="hub",
        action="items.held",
        subject=f"case:{case_id}",
        hold=target.id,
        reason=target.reason,
        items=len(items),
        signals=signals,
    )
    HOLDS.labels(target.reason).inc()
    return target


def _pending(session: Session, hold_id: int) -> Hold:
    target = session.get(Hold, hold_id)
    if target is None:
        raise HubError(
            404, BankCode.UNKNOWN_HOLD, f"There is no hold {hold_id}; see 'redress hold list'."
        )
    if target.status != HoldState.PENDING:
        raise HubError(409, BankCode.HOLD_DECIDED, f"Hold {hold_id} was already {target.status}.")
    return target


def _held_items(session: Session, hold_id: int) -> list[Item]:
    return list(
        session.scalars(
            select(Item)
            .join(HoldItem, HoldItem.item_id == Item.id)
            .where(HoldItem.hold_id == hold_id, Item.status == ItemState.HELD)
            .order_by(Item.id)
        )
    )


def release(session: Session, hold_id: int, *, clock: Clock, actor: str) -> Hold:
    """Staff found the held items genuine: they become active and their signals are appended
    to the feed now, after every entry already there."""
    target = _pending(session, hold_id)
    items = _held_items(session, hold_id)
    refs = {item.id: item.ref for item in items}
    for item in items:
        item.status = ItemState.ACTIVE
    session.flush()
    links = session.execute(
        select(ItemSignal.item_id, ItemSignal.signal_id, ItemSignal.variant)
        .where(ItemSignal.item_id.in_(list(refs)))
        .order_by(ItemSignal.item_id, ItemSignal.id)
    ).all()
    publish(session, [(s, refs[i], v) for i, s, v in links], reason="added", clock=clock)
    target.status, target.decided_at = HoldState.RELEASED, clock.now()
    record_event(
        session,
        clock=clock,
        actor=actor,
        action="hold.released",
        subject=f"hold:{target.id}",
        items=len(items),
        signals=len(links),
    )
    return target


def reject(session: Session, hold_id: int, *, clock: Clock, actor: str) -> Hold:
    """Staff found the held items abusive: they are withdrawn (status `rejected`); their
    signals never reached a platform, and stay off the feed unless someone else submits them."""
    target = _pending(session, hold_id)
    items = _held_items(session, hold_id)
    moment = clock.now()
    for item in items:
        item.status, item.withdrawn_at = ItemState.REJECTED, moment
    target.status, target.decided_at = HoldState.REJECTED, moment
    record_event(
        session,
        clock=clock,
        actor=actor,
        action="hold.rejected",
        subject=f"hold:{target.id}",
        items=len(items),
    )
    return target


def list_holds(session: Session, *, every: bool = False) -> list[Hold]:
    """Pending holds (or, `every`, all of them), oldest first."""
    query = select(Hold).order_by(Hold.id)
    if not every:
        query = query.where(Hold.status == HoldState.PENDING)
    return list(session.scalars(query))


def held_signals(session: Session) -> int:
    """Signals waiting in pending holds (counted per held item)."""
    return int(
        session.scalar(
            select(func.coalesce(func.sum(Hold.signals), 0)).where(Hold.status == HoldState.PENDING)
        )
        or 0
    )


def pending_by_reason(session: Session) -> dict[str, int]:
    """How many holds are pending, per reason."""
    counts = dict.fromkeys(REASONS, 0)
    rows = session.execute(
        select(Hold.reason, func.count())
        .where(Hold.status == HoldState.PENDING)
        .group_by(Hold.reason)
    )
    for reason, count in rows:
        counts[reason] = int(count)
    return counts


def refresh_gauges(session: Session) -> None:
    """Set the holds' gauges (`/metrics`) from the database."""
    HELD_SIGNALS.set(held_signals(session))
    for reason, count in pending_by_reason(session).items():
        PENDING_HOLDS.labels(reason).set(count)
