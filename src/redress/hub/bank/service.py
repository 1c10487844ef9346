"""The hash bank: validating submitted signals, finding them, and the items that hold them —
added (on the feed, or held for review) and withdrawn. Other domains use the bank through this
module; the feed's state machine is `redress.hub.bank.feed`."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from redress.config import Settings
from redress.core.clock import Clock
from redress.hashing.errors import InvalidSignalError
from redress.hashing.signal_types import PdqSignal, VpdqSignal, normalise_signal
from redress.hub.bank.bulk import insert_many, intern_signals, one_of, table_of
from redress.hub.bank.errors import BankCode
from redress.hub.bank.feed import append_many, publish, quarantine, read_feed, restore, touch
from redress.hub.bank.holds import hold, pending_hold_of_case
from redress.hub.bank.models import Item, ItemSignal, ItemState, Signal, SignalState
from redress.hub.bank.queries import (
    awaiting_review,
    case_item_count,
    case_item_signals,
    case_items,
    changed_signals,
    find_signal,
    holders,
    signal_by_id,
    signals_by_id,
)
from redress.hub.bank.schemas import ItemIn
from redress.hub.errors import HubError
from redress.hub.events import record_events

__all__ = [
    "ItemState",
    "Signal",
    "SignalState",
    "ValidSignal",
    "add_case_items",
    "add_item",
    "add_items",
    "awaiting_review",
    "case_item_count",
    "case_item_signals",
    "case_items",
    "changed_signals",
    "find_signal",
    "holders",
    "new_item_ref",
    "normalise",
    "one_of",
    "quarantine",
    "read_feed",
    "restore",
    "signal_by_id",
    "signals_by_id",
    "touch",
    "validate_items",
    "withdraw_item",
    "withdraw_items",
]


@dataclass(frozen=True, slots=True)
class ValidSignal:
    """A submitted signal after validation by the hashing core."""

    type: str
    value: str
    quality: int | None
    variant: str | None


def normalise(kind: str, value: str, where: str) -> tuple[str, str]:
    """The signal type's name and the value in canonical form, or 422 `invalid_signal` saying
    `where` (e.g. ``feedback 3``) the bad signal was."""
    try:
        signal_type, canonical = normalise_signal(kind, value)
    except InvalidSignalError as exc:
        raise HubError(422, BankCode.INVALID_SIGNAL, f"{where}: {exc.message}") from None
    return signal_type.name, canonical


def validate_items(items: Sequence[ItemIn], settings: Settings) -> list[list[ValidSignal]]:
    """Normalise every signal of every item; refuse too many items or signals, unknown types,
    bad values, low quality."""
    limit = settings.max_items_per_request
    if len(items) > limit:
        raise HubError(
            413,
            BankCode.TOO_MANY_ITEMS,
            f"At most {limit} items per request; send the rest separately.",
        )
    per_item = settings.max_signals_per_item
    for i, item in enumerate(items, start=1):
        if len(item.signals) > per_item:
            raise HubError(
                422,
                BankCode.TOO_MANY_SIGNALS,
                f"item {i} has {len(item.signals)} signals; at most {per_item} per item are "
                "accepted (a picture's original hash and its variants, or a video's hashes). "
                "Send each picture or video as its own item.",
            )
    validated = []
    for i, item in enumerate(items, start=1):
        signals = []
        for j, signal in enumerate(item.signals, start=1):
            where = f"item {i}, signal {j}"
            kind, value = normalise(signal.type, signal.value, where)
            if kind == "pdq" and signal.quality is not None and signal.quality < 50:
                raise HubError(
                    422,
                    BankCode.LOW_QUALITY,
                    f"{where}: PDQ quality {signal.quality} is below "
                    f"{PdqSignal.min_quality}; the picture is too flat to match reliably. Try "
                    "another copy of the image.",
                )
            if kind == "vpdq" and all(
                frame.quality < VpdqSignal.quality_threshold for frame in VpdqSignal().parse(value)
            ):
                raise HubError(
                    422,
                    BankCode.LOW_QUALITY,
                    f"{where}: no frame of this video hashed with quality 50+.",
                )
            signals.append(ValidSignal(kind, value, signal.quality, signal.variant))
        validated.append(signals)
    return validated


def new_item_ref() -> str:
    """An opaque, random item reference: all a platform ever learns about an item."""
    return "i_" + secrets.token_hex(10)


def add_items(
    session: Session,
    items: Sequence[Sequence[ValidSignal]],
    *,
    clock: Clock,
    actor: str,
    case_id: int | None = None,
    participant_id: int | None = None,
    held: bool = False,
) -> list[Item]:
    """New items holding these signals, each (re)announced on the feed — or, `held`, kept in
    the bank with status `held` and off the feed until staff release them
    (`redress.hub.bank.holds`).

    Bulk statements throughout: the number of statements does not grow with the number of
    items or signals (past thousands of rows the driver batches them), so on SQLite the write
    lock is held for milliseconds.
    """
    moment = clock.now()
    refs = [new_item_ref() for _ in items]
    session.flush()
    session.execute(
        insert(table_of(Item)),
        [
            {
                "ref": ref,
                "case_id": case_id,
                "participant_id": participant_id,
                "status": ItemState.HELD if held else ItemState.ACTIVE,
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
    wanted = {(s.type, s.value) for signals in items for s in signals}
    ids = intern_signals(session, wanted, clock=clock)
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
        session,
        clock=clock,
        actor=actor,
        action="item.added",
        subjects=[f"item:{item.id}" for item in rows],
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
            clock=clock,
        )
    session.flush()
    return rows


def add_item(
    session: Session,
    signals: Sequence[ValidSignal],
    *,
    clock: Clock,
    actor: str,
    case_id: int | None = None,
    participant_id: int | None = None,
) -> Item:
    """A new active item holding `signals`; each signal is (re)announced on the feed."""
    return add_items(
        session,
        [signals],
        clock=clock,
        actor=actor,
        case_id=case_id,
        participant_id=participant_id,
    )[0]


def add_case_items(
    session: Session,
    items: Sequence[Sequence[ValidSignal]],
    *,
    clock: Clock,
    case_id: int,
    new_case: bool,
    hold_reason: str | None,
    source: str | None,
) -> list[Item]:
    """A survivor's new items: published, or held for staff review when the flood safeguards
    gave a `hold_reason` or the case already has a pending hold (they join it)."""
    into = None if new_case else pending_hold_of_case(session, case_id)
    if hold_reason is None and into is None:
        return add_items(session, items, clock=clock, actor="survivor", case_id=case_id)
    created = add_items(session, items, clock=clock, actor="survivor", case_id=case_id, held=True)
    hold(
        session,
        hold_reason or (into.reason if into else "volume"),
        items=created,
        case_id=case_id,
        new_case=new_case,
        signals=sum(len({(s.type, s.value) for s in item}) for item in items),
        source=source,
        into=into,
        clock=clock,
    )
    return created


def withdraw_items(session: Session, items: Sequence[Item], *, clock: Clock, actor: str) -> None:
    """Withdraw items; each signal leaves the feed (one `remove` entry, under the item that
    held it) unless another active item still holds it. Bulk statements, as for adding."""
    moment = clock.now()
    leaving = [item for item in items if item.status != ItemState.WITHDRAWN]
    if not leaving:
        return
    for item in leaving:
        item.status, item.withdrawn_at = ItemState.WITHDRAWN, moment
    session.flush()
    record_events(
        session,
        clock=clock,
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
            .where(
                one_of(session, ItemSignal.signal_id, signal_ids),
                Item.status == ItemState.ACTIVE,
            )
        )
    )
    on_feed = set(
        session.scalars(
            select(Signal.id).where(
                one_of(session, Signal.id, signal_ids), Signal.status == SignalState.ACTIVE
            )
        )
    )
    removals: dict[int, str] = {}
    for item_id, signal_id in links:
        if signal_id in on_feed and signal_id not in still_held and signal_id not in removals:
            removals[signal_id] = ref_of[item_id]
    if not removals:
        return
    append_many(
        session,
        SignalState.WITHDRAWN,
        [("remove", "withdrawn", s, ref, None) for s, ref in removals.items()],
        clock=clock,
    )


def withdraw_item(session: Session, item: Item, *, clock: Clock, actor: str) -> None:
    """Withdraw an item; its signals leave the feed unless another active item holds them."""
    withdraw_items(session, [item], clock=clock, actor=actor)
