"""Factories for the hub's main rows, built through the domains' services (so a factory row is
one the hub itself could have made) with a clock the test controls. Each takes a session and
leaves committing to the caller."""

from __future__ import annotations

import itertools
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from redress.config import Settings
from redress.core.clock import Clock
from redress.hub.bank import service as bank
from redress.hub.bank.models import Item, Signal
from redress.hub.bank.service import ValidSignal
from redress.hub.cases import service as cases
from redress.hub.cases.models import Case
from redress.hub.participants import service as participants
from redress.hub.participants.models import Participant
from redress.hub.participants.schemas import DEFAULT_SCOPES, Scope
from redress.hub.secrets_box import SecretBox

_numbers = itertools.count(1)
BOX = SecretBox(b"k" * 32)
#: The hub's limits with the flood safeguards off (a factory case is never held).
SETTINGS = Settings(
    secret_key=None,
    flood_signals_per_request=0,
    flood_cases_per_source=0,
    flood_cases_per_hour=0,
    flood_signals_per_hour=0,
)


def pdq_value(n: int | None = None) -> str:
    """A distinct valid PDQ hash (64 hex digits) for each call, or for each `n`."""
    return f"{next(_numbers) if n is None else n:064x}"


def valid_signal(value: str | None = None, kind: str = "pdq") -> ValidSignal:
    """A signal as validation leaves it (PDQ of quality 100 by default)."""
    return ValidSignal(kind, value or pdq_value(), 100 if kind == "pdq" else None, None)


def make_participant(
    session: Session, *, clock: Clock, name: str | None = None, scopes: Sequence[Scope] = ()
) -> tuple[Participant, str]:
    """A platform with one API key: the row and the key."""
    chosen = name or f"Platform {next(_numbers)}"
    key = participants.add_participant(
        session, name=chosen, scopes=tuple(scopes) or DEFAULT_SCOPES, clock=clock
    )
    return participants.get_participant(session, name=chosen), key


def make_case(
    session: Session, *, clock: Clock, items: Sequence[Sequence[ValidSignal]] = ()
) -> tuple[Case, str]:
    """A survivor's case holding `items` (by default one item of one fresh PDQ): the row and
    its PIN."""
    created = cases.create_case(
        session,
        settings=SETTINGS,
        box=BOX,
        statement_version=SETTINGS.statement_version,
        items=[list(item) for item in items] or [[valid_signal()]],
        idempotency_key=None,
        clock=clock,
    )
    found = session.scalars(select(Case).where(Case.case_number == created.case_number)).one()
    return found, created.pin


def make_item(
    session: Session,
    *,
    clock: Clock,
    signals: Sequence[ValidSignal] = (),
    participant_id: int | None = None,
) -> Item:
    """An active item (a platform's when `participant_id` is given) holding `signals` (by
    default one fresh PDQ), on the feed."""
    return bank.add_item(
        session,
        list(signals) or [valid_signal()],
        clock=clock,
        actor="factory",
        participant_id=participant_id,
    )


def make_signal(session: Session, *, clock: Clock, value: str | None = None) -> Signal:
    """A signal on the feed (held by a fresh item)."""
    valid = valid_signal(value)
    make_item(session, clock=clock, signals=[valid])
    found = bank.find_signal(session, valid.type, valid.value)
    assert found is not None
    return found
