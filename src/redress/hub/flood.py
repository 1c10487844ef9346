"""Flood safeguards: abnormal case creation is held back from the feed for staff review.

Three signs, each a setting (`REDRESS_FLOOD_*`, 0 turns one off): one request adding more
signals than `flood_signals_per_request` (size); one client address creating more than
`flood_cases_per_source` cases within `flood_source_window_hours` (source); the whole hub
taking more than `flood_cases_per_hour` cases or `flood_signals_per_hour` signals in the last
hour (volume). A held request is stored normally (the survivor gets a case number and PIN; the
status says the item is being checked), but its new items stay `held`: their signals are in the
bank and in no feed until staff release the hold (the entries are appended then, after every
entry already there) or reject it (the items are withdrawn; nothing reached a platform).

Only a keyed digest of the client address is stored (HMAC with a key derived from the hub's
secret key), and only for the source window.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import timedelta

from prometheus_client import Counter
from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session

from redress.config import Settings
from redress.hub.bank import publish
from redress.hub.bulk import table_of
from redress.hub.errors import HubError
from redress.hub.events import now, record_event
from redress.hub.models import Hold, HoldItem, Intake, Item, ItemSignal
from redress.hub.secrets_box import SecretBox

REASONS = ("size", "source", "volume")
HOLDS = Counter("redress_flood_holds_total", "Requests held for staff review", ["reason"])
_HOUR = timedelta(hours=1)


@dataclass(frozen=True, slots=True)
class Arrival:
    """What one request adds: a new case (1) or items for an existing one (0), its signals,
    and the keyed digest of the client address (None when unknown)."""

    cases: int
    signals: int
    source: str | None


def source_digest(box: SecretBox, client: str) -> str:
    """A keyed, non-reversible digest of a client address: equal for equal addresses."""
    key = box.derive("flood-source")
    return hmac.new(key, client.encode(), hashlib.sha256).hexdigest()


def assess(session: Session, settings: Settings, arrival: Arrival) -> str | None:
    """Record the arrival and say why it must be held (`size`, `source`, `volume`), or None."""
    moment = now()
    window = timedelta(hours=settings.flood_source_window_hours)
    session.execute(delete(Intake).where(Intake.at < moment - max(window, _HOUR)))
    reason = None
    limit = settings.flood_signals_per_request
    if limit and arrival.signals > limit:
        reason = "size"
    limit = settings.flood_cases_per_source
    if reason is None and limit and arrival.cases and arrival.source is not None:
        earlier = session.scalar(
            select(func.coalesce(func.sum(Intake.cases), 0)).where(
                Intake.source == arrival.source, Intake.at >= moment - window
            )
        )
        if int(earlier or 0) + arrival.cases > limit:
            reason = "source"
    if reason is None and (settings.flood_cases_per_hour or settings.flood_signals_per_hour):
        cases, signals = session.execute(
            select(
                func.coalesce(func.sum(Intake.cases), 0), func.coalesce(func.sum(Intake.signals), 0)
            ).where(Intake.at >= moment - _HOUR)
        ).one()
        over_cases = settings.flood_cases_per_hour and (
            int(cases) + arrival.cases > settings.flood_cases_per_hour
        )
        over_signals = settings.flood_signals_per_hour and (
            int(signals) + arrival.signals > settings.flood_signals_per_hour
        )
        if over_cases or over_signals:
            reason = "volume"
    session.add(
        Intake(at=moment, source=arrival.source, cases=arrival.cases, signals=arrival.signals)
    )
    return reason


def pending_hold_of_case(session: Session, case_id: int) -> Hold | None:
    """The pending hold that already holds some of this case's items, if any."""
    return session.scalar(
        select(Hold)
        .join(HoldItem, HoldItem.hold_id == Hold.id)
        .join(Item, Item.id == HoldItem.item_id)
        .where(Item.case_id == case_id, Hold.status == "pending")
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
    into: Hold | None = None,
) -> Hold:
    """Put `items` (created `held`) under review: in `into`, or the open hold for this reason
    (and, for `source`, this address), or a new one."""
    moment = now()
    key = source if reason == "source" else None
    target = into or session.scalar(
        select(Hold)
        .where(Hold.status == "pending", Hold.reason == reason, Hold.source == key)
        .order_by(Hold.id.desc())
        .limit(1)
    )
    if target is None:
        target = Hold(
            reason=reason,
            source=key,
            status="pending",
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
        raise HubError(404, "unknown_hold", f"There is no hold {hold_id}; see 'redress hold list'.")
    if target.status != "pending":
        raise HubError(409, "hold_decided", f"Hold {hold_id} was already {target.status}.")
    return target


def _held_items(session: Session, hold_id: int) -> list[Item]:
    return list(
        session.scalars(
            select(Item)
            .join(HoldItem, HoldItem.item_id == Item.id)
            .where(HoldItem.hold_id == hold_id, Item.status == "held")
            .order_by(Item.id)
        )
    )


def release(session: Session, hold_id: int, *, actor: str) -> Hold:
    """Staff found the held items genuine: they become active and their signals are appended
    to the feed now, after every entry already there."""
    target = _pending(session, hold_id)
    items = _held_items(session, hold_id)
    refs = {item.id: item.ref for item in items}
    for item in items:
        item.status = "active"
    session.flush()
    links = session.execute(
        select(ItemSignal.item_id, ItemSignal.signal_id, ItemSignal.variant)
        .where(ItemSignal.item_id.in_(list(refs)))
        .order_by(ItemSignal.item_id, ItemSignal.id)
    ).all()
    publish(session, [(s, refs[i], v) for i, s, v in links], reason="added")
    target.status, target.decided_at = "released", now()
    record_event(
        session,
        actor=actor,
        action="hold.released",
        subject=f"hold:{target.id}",
        items=len(items),
        signals=len(links),
    )
    return target


def reject(session: Session, hold_id: int, *, actor: str) -> Hold:
    """Staff found the held items abusive: they are withdrawn (status `rejected`); their
    signals never reached a platform, and stay off the feed unless someone else submits them."""
    target = _pending(session, hold_id)
    items = _held_items(session, hold_id)
    moment = now()
    for item in items:
        item.status, item.withdrawn_at = "rejected", moment
    target.status, target.decided_at = "rejected", moment
    record_event(
        session, actor=actor, action="hold.rejected", subject=f"hold:{target.id}", items=len(items)
    )
    return target


def list_holds(session: Session, *, every: bool = False) -> list[Hold]:
    """Pending holds (or, `every`, all of them), oldest first."""
    query = select(Hold).order_by(Hold.id)
    if not every:
        query = query.where(Hold.status == "pending")
    return list(session.scalars(query))


def held_signals(session: Session) -> int:
    """Signals waiting in pending holds (counted per held item)."""
    return int(
        session.scalar(
            select(func.coalesce(func.sum(Hold.signals), 0)).where(Hold.status == "pending")
        )
        or 0
    )


def pending_by_reason(session: Session) -> dict[str, int]:
    """How many holds are pending, per reason."""
    counts = dict.fromkeys(REASONS, 0)
    rows = session.execute(
        select(Hold.reason, func.count()).where(Hold.status == "pending").group_by(Hold.reason)
    )
    for reason, count in rows:
        counts[reason] = int(count)
    return counts
