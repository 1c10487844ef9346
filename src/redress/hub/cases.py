"""Survivors' cases: create from hashes, prove ownership with the PIN, see outcomes, add items,
withdraw, and manage an optional contact. Service functions take a session and never commit."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from cryptography.exceptions import InvalidTag
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from redress.config import Settings
from redress.hub import credentials
from redress.hub.bank import ValidSignal, add_item, withdraw_item
from redress.hub.errors import HubError, locked, not_found_or_wrong_pin
from redress.hub.events import now, record_event
from redress.hub.models import Case, Feedback, Item, PinAttempts
from redress.hub.schemas import EMAIL_PATTERN, CaseStatus, ItemStatus
from redress.hub.secrets_box import SecretBox

RETRY_WINDOW = timedelta(hours=24)
_HOUR = timedelta(hours=1)


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
) -> NewCase:
    """A new case holding `items`; the same `idempotency_key` returns the same case."""
    if statement_version != settings.statement_version:
        raise HubError(
            409,
            "statement_changed",
            f"The statement has changed (now version {settings.statement_version}). Read the "
            "current statement and accept it again.",
        )
    digest = request_digest(statement_version, items)
    # Hash before the first query: argon2id takes ~0.1 s, and on SQLite the transaction holds
    # the write lock from its first statement.
    pin = credentials.new_pin()
    pin_hash = credentials.hash_pin(pin)
    if idempotency_key is not None:
        earlier = session.scalar(select(Case).where(Case.idempotency_key == idempotency_key))
        if earlier is not None:
            return _replay(earlier, digest, idempotency_key, box)
    case = Case(
        case_number=credentials.new_case_number(),
        pin_hash=pin_hash,
        statement_version=statement_version,
        status="active",
        created_at=now(),
        idempotency_key=idempotency_key,
        request_digest=digest,
    )
    if idempotency_key is not None:
        case.retry_secret = box.seal(pin, f"retry:{idempotency_key}")
        case.retry_expires_at = now() + RETRY_WINDOW
    try:
        with session.begin_nested():  # a savepoint: only this insert is undone on a clash
            session.add(case)
            session.flush()
    except IntegrityError:
        # A concurrent retry with the same key won the race: answer as that request did.
        earlier = session.scalar(select(Case).where(Case.idempotency_key == idempotency_key))
        if earlier is None:
            raise
        return _replay(earlier, digest, idempotency_key or "", box)
    record_event(
        session,
        actor="survivor",
        action="case.created",
        subject=f"case:{case.id}",
        statement_version=statement_version,
        items=len(items),
    )
    for signals in items:
        add_item(session, signals, case_id=case.id, actor="survivor")
    return NewCase(case.case_number, pin)


def _replay(case: Case, digest: str, key: str, box: SecretBox) -> NewCase:
    if case.request_digest != digest:
        raise HubError(
            409,
            "idempotency_conflict",
            "This idempotency key was already used for a different submission; use a new key.",
        )
    expires = case.retry_expires_at
    if case.retry_secret is None or expires is None or _aware(expires) < now():
        raise HubError(
            409,
            "already_created",
            "This submission was already received and its PIN can no longer be shown. If you "
            "lost the PIN, submit your images again to get a new case.",
        )
    try:
        pin = box.open(case.retry_secret, f"retry:{key}")
    except InvalidTag:
        raise HubError(409, "already_created", "This submission was already received.") from None
    return NewCase(case.case_number, pin, replayed=True)


def _aware(moment: datetime) -> datetime:
    """SQLite returns naive datetimes for timezone columns; they were stored as UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _attempts(session: Session, key: str) -> PinAttempts:
    row = session.get(PinAttempts, key)
    if row is None:
        row = PinAttempts(key=key, failures=0, window_start=now(), locked_until=None)
        session.add(row)
    return row


@dataclass(frozen=True, slots=True)
class _PinCheck:
    number_key: str
    client_key: str
    pin_hash: str | None
    case_id: int | None
    had_failures: bool


def _begin_pin_check(session: Session, *, case_number: str, client: str) -> _PinCheck:
    """Read the lock-out state and the PIN hash; raises `locked` while locked out."""
    canonical = credentials.normalise_case_number(case_number)
    number_key = credentials.digest_key("case", canonical or case_number.strip().upper())
    client_key = credentials.digest_key("client", client)
    moment = now()
    rows = [session.get(PinAttempts, number_key), session.get(PinAttempts, client_key)]
    for row in rows:
        if row is not None and row.locked_until is not None:
            until = _aware(row.locked_until)
            if until > moment:
                raise locked(int((until - moment).total_seconds()))
    case = session.scalar(select(Case).where(Case.case_number == canonical)) if canonical else None
    return _PinCheck(
        number_key,
        client_key,
        case.pin_hash if case else None,
        case.id if case else None,
        bool(rows[0] and rows[0].failures),
    )


def _finish_pin_check(session: Session, *, settings: Settings, check: _PinCheck, ok: bool) -> None:
    """Count a failure against the number and the client (locking at the limit), or clear the
    number's count after a success."""
    moment = now()
    number_row = _attempts(session, check.number_key)
    if ok:
        number_row.failures, number_row.locked_until = 0, None
        return
    limits = [
        (number_row, settings.pin_max_failures, timedelta(seconds=settings.pin_lockout_seconds)),
        (_attempts(session, check.client_key), settings.client_pin_failures_per_hour, _HOUR),
    ]
    for row, allowed, window in limits:
        if _aware(row.window_start) + window < moment:
            row.failures, row.window_start = 0, moment
        row.failures += 1
        if row.failures >= allowed:
            row.locked_until = moment + window
            row.failures, row.window_start = 0, moment


def verify_case(
    transaction: Callable[[], AbstractContextManager[Session]],
    *,
    settings: Settings,
    case_number: str,
    pin: str,
    client: str,
) -> int:
    """The id of the case if the number and PIN are right; raises the one wrong-number-or-PIN
    error (after counting the failure) or `locked`.

    The argon2id check (~0.1 s) runs between two short transactions, so no database lock is held
    while it runs. Unknown numbers do the same work and count the same way as known ones.
    """
    with transaction() as session:
        check = _begin_pin_check(session, case_number=case_number, client=client)
    ok = credentials.verify_pin(check.pin_hash, pin) and check.case_id is not None
    if not ok or check.had_failures:
        with transaction() as session:
            _finish_pin_check(session, settings=settings, check=check, ok=ok)
    if not ok or check.case_id is None:
        raise not_found_or_wrong_pin()
    return check.case_id


def load_case(session: Session, case_id: int) -> Case:
    """The case with this id (after `verify_case`)."""
    case = session.get(Case, case_id)
    if case is None:  # deleted between the two steps
        raise not_found_or_wrong_pin()
    return case


def case_status(session: Session, case: Case) -> CaseStatus:
    """Per item: how many platforms matched it, removed it, are reviewing it."""
    items = []
    for item in case.items:
        signal_ids = [link.signal_id for link in item.links]
        verdicts: dict[int, set[str]] = {}
        for feedback in session.scalars(select(Feedback).where(Feedback.signal_id.in_(signal_ids))):
            verdicts.setdefault(feedback.participant_id, set()).add(feedback.value)
        removed = sum(1 for v in verdicts.values() if "Blocked" in v)
        reviewing = sum(1 for v in verdicts.values() if "Blocked" not in v and "PendingReview" in v)
        items.append(
            ItemStatus(
                item=item.ref,
                status="withdrawn" if item.status == "withdrawn" else "active",
                signals=len(signal_ids),
                platforms_matched=len(verdicts),
                platforms_removed=removed,
                platforms_reviewing=reviewing,
                platforms_not_confirmed=len(verdicts) - removed - reviewing,
                disputed=any(link.signal.quarantined_at is not None for link in item.links),
            )
        )
    return CaseStatus(
        case_number=case.case_number,
        status="withdrawn" if case.status == "withdrawn" else "active",
        created_at=_aware(case.created_at).isoformat(timespec="seconds"),
        statement_version=case.statement_version,
        contact_on_file=case.contact_secret is not None,
        items=items,
    )


def add_items(session: Session, case: Case, items: list[list[ValidSignal]]) -> list[str]:
    """New items on an existing, active case; returns their references."""
    if case.status != "active":
        raise HubError(409, "case_withdrawn", "This case was withdrawn; create a new case.")
    refs = [add_item(session, s, case_id=case.id, actor="survivor").ref for s in items]
    session.refresh(case)
    return refs


def withdraw(session: Session, case: Case, item_ref: str | None) -> None:
    """Withdraw one item (by reference) or, without one, the whole case."""
    if item_ref is not None:
        item = session.scalar(select(Item).where(Item.ref == item_ref, Item.case_id == case.id))
        if item is None:
            # 409, not 404: the case (the target) exists; it just holds no such item.
            raise HubError(409, "unknown_item", "This case has no item with that reference.")
        withdraw_item(session, item, actor="survivor")
        return
    for item in case.items:
        withdraw_item(session, item, actor="survivor")
    if case.status != "withdrawn":
        case.status = "withdrawn"
        case.withdrawn_at = now()
        case.contact_secret = None
        record_event(session, actor="survivor", action="case.withdrawn", subject=f"case:{case.id}")


def set_contact(session: Session, case: Case, email: str | None, box: SecretBox) -> None:
    """Store (encrypted) or delete the case's notification email."""
    if email is not None:
        cleaned = email.strip()
        if not re.search(EMAIL_PATTERN, email):
            raise HubError(422, "invalid_email", "That does not look like an email address.")
        case.contact_secret = box.seal(cleaned, f"contact:{case.id}")
        action = "contact.set"
    else:
        case.contact_secret = None
        action = "contact.deleted"
    record_event(session, actor="survivor", action=action, subject=f"case:{case.id}")
