"""Survivors' cases: create from hashes, prove ownership with the PIN, see outcomes, add items,
withdraw, and manage an optional contact. Service functions take a session and never commit."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import timedelta
from typing import Literal

from cryptography.exceptions import InvalidTag
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from redress.config import Settings
from redress.core.clock import Clock
from redress.hub.bank import service as bank
from redress.hub.bank.service import ItemState, ValidSignal
from redress.hub.cases import credentials, intake, portal_sessions
from redress.hub.cases.errors import CaseCode, not_found_or_wrong_pin
from redress.hub.cases.models import Case, CaseState
from redress.hub.cases.schemas import EMAIL_PATTERN, CaseStatus, ItemStatus
from redress.hub.errors import HubError
from redress.hub.events import record_event
from redress.hub.feedback import service as feedback
from redress.hub.feedback.service import Verdict
from redress.hub.ports import PinBudget
from redress.hub.secrets_box import SecretBox

RETRY_WINDOW = timedelta(hours=24)
#: What the survivor sees of an item's status: a held item is "being checked", a rejected one
#: withdrawn (its hashes never reached a platform).
_ITEM_STATUS: dict[str, Literal["active", "checking", "withdrawn"]] = {
    ItemState.ACTIVE: "active",
    ItemState.HELD: "checking",
    ItemState.WITHDRAWN: "withdrawn",
    ItemState.REJECTED: "withdrawn",
}


@dataclass(frozen=True, slots=True)
class NewCase:
    """Credentials to show once; `replayed` when an idempotent retry returned an earlier case."""

    case_number: str
    pin: str
    replayed: bool = False


def request_digest(statement_version: str, items: list[list[ValidSignal]]) -> str:
    """A digest of what a creation request asks for, to tell a true retry from a reused key."""
    canonical = json.dumps(
        [statement_version, [[(s.type, s.value) for s in item] for item in items]]
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def create_case(
    session: Session,
    *,
    settings: Settings,
    box: SecretBox,
    statement_version: str,
    items: list[list[ValidSignal]],
    idempotency_key: str | None,
    clock: Clock,
    client: str | None = None,
) -> NewCase:
    """A new case holding `items`; the same `idempotency_key` returns the same case.

    `client` (the caller's address) feeds the flood safeguards, which may hold the items back
    from the feed for staff review (see `redress.hub.cases.intake`); only a keyed digest is
    stored.
    """
    if statement_version != settings.statement_version:
        raise HubError(
            409,
            CaseCode.STATEMENT_CHANGED,
            f"The statement has changed (now version {settings.statement_version}). Read the "
            "current statement and accept it again.",
        )
    _check_case_size(settings, 0, len(items))
    digest = request_digest(statement_version, items)
    source = intake.source_digest(box, client) if client is not None else None
    # Hash before the first query: argon2id takes ~0.1 s, and on SQLite the transaction holds
    # the write lock from its first statement.
    pin = credentials.new_pin()
    pin_hash = credentials.hash_pin(pin)
    if idempotency_key is not None:
        earlier = session.scalar(select(Case).where(Case.idempotency_key == idempotency_key))
        if earlier is not None:
            return _replay(earlier, digest, idempotency_key, box, clock)
    case = Case(
        case_number=credentials.new_case_number(),
        pin_hash=pin_hash,
        statement_version=statement_version,
        status=CaseState.ACTIVE,
        created_at=clock.now(),
        idempotency_key=idempotency_key,
        request_digest=digest,
    )
    if idempotency_key is not None:
        case.retry_secret = box.seal(pin, f"retry:{idempotency_key}")
        case.retry_expires_at = clock.now() + RETRY_WINDOW
    try:
        with session.begin_nested():  # a savepoint: only this insert is undone on a clash
            session.add(case)
            session.flush()
    except IntegrityError:
        # A concurrent retry with the same key won the race: answer as that request did.
        earlier = session.scalar(select(Case).where(Case.idempotency_key == idempotency_key))
        if earlier is None:
            raise
        return _replay(earlier, digest, idempotency_key or "", box, clock)
    record_event(
        session,
        clock=clock,
        actor="survivor",
        action="case.created",
        subject=f"case:{case.id}",
        statement_version=statement_version,
        items=len(items),
    )
    _add(session, settings, case.id, items, new_case=True, source=source, clock=clock)
    return NewCase(case.case_number, pin)


def _check_case_size(settings: Settings, existing: int, adding: int) -> None:
    limit = settings.max_items_per_case
    if existing + adding > limit:
        already = f"This case already has {existing} items; " if existing else ""
        raise HubError(
            413,
            CaseCode.CASE_FULL,
            f"{already}a case holds at most {limit} items and this request adds {adding}. "
            "Send fewer items, or start a new case for the rest.",
        )


def _add(
    session: Session,
    settings: Settings,
    case_id: int,
    items: list[list[ValidSignal]],
    *,
    new_case: bool,
    source: str | None,
    clock: Clock,
) -> list[str]:
    """The new items' references: published, or held for review when the flood safeguards
    say so."""
    signals = sum(len({(s.type, s.value) for s in item}) for item in items)
    arrival = intake.Arrival(int(new_case), signals, source)
    reason = intake.assess(session, settings=settings, arrival=arrival, clock=clock)
    added = bank.add_case_items(
        session,
        items,
        clock=clock,
        case_id=case_id,
        new_case=new_case,
        hold_reason=reason,
        source=source,
    )
    return [item.ref for item in added]


def _replay(case: Case, digest: str, key: str, box: SecretBox, clock: Clock) -> NewCase:
    if case.request_digest != digest:
        raise HubError(
            409,
            CaseCode.IDEMPOTENCY_CONFLICT,
            "This idempotency key was already used for a different submission; use a new key.",
        )
    expires = case.retry_expires_at
    if case.retry_secret is None or expires is None or expires < clock.now():
        raise HubError(
            409,
            CaseCode.ALREADY_CREATED,
            "This submission was already received and its PIN can no longer be shown. If you "
            "lost the PIN, submit your images again to get a new case.",
        )
    try:
        pin = box.open(case.retry_secret, f"retry:{key}")
    except InvalidTag:
        raise HubError(
            409, CaseCode.ALREADY_CREATED, "This submission was already received."
        ) from None
    return NewCase(case.case_number, pin, replayed=True)


def verify_case(
    transaction: Callable[[], AbstractContextManager[Session]],
    *,
    guard: PinBudget,
    case_number: str,
    pin: str,
    client: str,
) -> int:
    """The id of the case if the number and PIN are right; raises the one wrong-number-or-PIN
    error or `locked` (see `redress.hub.cases.lockout`).

    The attempt is counted (reserved against the budgets, atomically) *before* the PIN is
    checked, so parallel guesses cannot outrun the count; a right PIN then clears it. The
    argon2id check (~0.1 s) runs with no transaction open. Unknown and malformed numbers do the
    same work and are counted the same way as known ones, each under its own key.
    """
    canonical = credentials.normalise_case_number(case_number)
    number = canonical or case_number.strip().upper()
    reservation = guard.reserve(number, client)
    with transaction() as session:
        case = (
            session.scalar(select(Case).where(Case.case_number == canonical)) if canonical else None
        )
        pin_hash, case_id = (case.pin_hash, case.id) if case else (None, None)
    if not credentials.verify_pin(pin_hash, pin) or case_id is None:
        guard.failed()
        raise not_found_or_wrong_pin()
    guard.succeeded(reservation)
    return case_id


def load_case(session: Session, case_id: int) -> Case:
    """The case with this id (after `verify_case`)."""
    case = session.get(Case, case_id)
    if case is None:  # deleted between the two steps
        raise not_found_or_wrong_pin()
    return case


def case_status(session: Session, case: Case) -> CaseStatus:
    """Per item: how many platforms matched it, removed it, are reviewing it. Three statements
    however many items the case has (it runs inside a transaction, holding SQLite's lock)."""
    signals: dict[int, int] = {}
    disputed: set[int] = set()
    holding: dict[int, list[int]] = {}
    for item_id, signal_id, paused in bank.case_item_signals(session, case.id):
        signals[item_id] = signals.get(item_id, 0) + 1
        holding.setdefault(signal_id, []).append(item_id)
        if paused:
            disputed.add(item_id)
    verdicts: dict[int, dict[int, set[str]]] = {}
    for signal_id, participant_id, value in feedback.verdicts_on(session, list(holding)):
        for item_id in holding[signal_id]:
            verdicts.setdefault(item_id, {}).setdefault(participant_id, set()).add(value)
    items = []
    for item in bank.case_items(session, case.id):
        found = verdicts.get(item.id, {})
        removed = sum(1 for v in found.values() if Verdict.BLOCKED in v)
        reviewing = sum(
            1 for v in found.values() if Verdict.BLOCKED not in v and Verdict.PENDING_REVIEW in v
        )
        items.append(
            ItemStatus(
                item=item.ref,
                status=_ITEM_STATUS.get(item.status, "active"),
                signals=signals.get(item.id, 0),
                platforms_matched=len(found),
                platforms_removed=removed,
                platforms_reviewing=reviewing,
                platforms_not_confirmed=len(found) - removed - reviewing,
                disputed=item.id in disputed,
            )
        )
    return CaseStatus(
        case_number=case.case_number,
        status="withdrawn" if case.status == CaseState.WITHDRAWN else "active",
        created_at=case.created_at.isoformat(timespec="seconds"),
        statement_version=case.statement_version,
        contact_on_file=case.contact_secret is not None,
        items=items,
    )


def add_items(
    session: Session,
    case: Case,
    items: list[list[ValidSignal]],
    *,
    settings: Settings,
    clock: Clock,
) -> list[str]:
    """New items on an existing, active case (within the case's size limit); returns their
    references. Items join the case's pending hold, if it has one."""
    if case.status != CaseState.ACTIVE:
        raise HubError(409, CaseCode.CASE_WITHDRAWN, "This case was withdrawn; create a new case.")
    _check_case_size(settings, bank.case_item_count(session, case.id), len(items))
    refs = _add(session, settings, case.id, items, new_case=False, source=None, clock=clock)
    session.refresh(case)
    return refs


def withdraw(session: Session, case: Case, item_ref: str | None, *, clock: Clock) -> None:
    """Withdraw one item (by reference) or, without one, the whole case."""
    if item_ref is not None:
        found = bank.case_items(session, case.id, item_ref)
        if not found:
            # 409, not 404: the case (the target) exists; it just holds no such item.
            raise HubError(409, CaseCode.UNKNOWN_ITEM, "This case has no item with that reference.")
        bank.withdraw_item(session, found[0], clock=clock, actor="survivor")
        return
    bank.withdraw_items(session, bank.case_items(session, case.id), clock=clock, actor="survivor")
    portal_sessions.end_case(session, case.id, clock.now())  # nothing is left to do signed in
    if case.status != CaseState.WITHDRAWN:
        case.status = CaseState.WITHDRAWN
        case.withdrawn_at = clock.now()
        case.contact_secret = None
        record_event(
            session,
            clock=clock,
            actor="survivor",
            action="case.withdrawn",
            subject=f"case:{case.id}",
        )


def set_contact(
    session: Session, case: Case, email: str | None, box: SecretBox, *, clock: Clock
) -> None:
    """Store (encrypted) or delete the case's notification email."""
    if email is not None:
        cleaned = email.strip()
        if not re.search(EMAIL_PATTERN, email):
            raise HubError(422, CaseCode.INVALID_EMAIL, "That does not look like an email address.")
        case.contact_secret = box.seal(cleaned, f"contact:{case.id}")
        action = "contact.set"
    else:
        case.contact_secret = None
        action = "contact.deleted"
    record_event(session, clock=clock, actor="survivor", action=action, subject=f"case:{case.id}")
