"""Platforms and their API keys: add, list, revoke, rotate, and authenticate a request."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from redress.core.clock import Clock
from redress.hub.errors import HubError
from redress.hub.events import record_event
from redress.hub.participants.errors import ParticipantCode
from redress.hub.participants.keys import digest_matches, key_prefix, new_api_key
from redress.hub.participants.models import ApiKey, Participant, ParticipantState
from redress.hub.participants.schemas import Scope


@dataclass(frozen=True, slots=True)
class Caller:
    """An authenticated platform and what its key may do."""

    participant_id: int
    name: str
    scopes: frozenset[str]


def _issue_key(
    session: Session, participant: Participant, scopes: Sequence[Scope], clock: Clock
) -> str:
    key, prefix, digest = new_api_key()
    session.add(
        ApiKey(
            participant_id=participant.id,
            prefix=prefix,
            key_hash=digest,
            scopes=",".join(s.value for s in scopes),
            created_at=clock.now(),
        )
    )
    record_event(
        session,
        clock=clock,
        actor="operator",
        action="key.issued",
        subject=f"participant:{participant.id}",
        prefix=prefix,
        scopes=[s.value for s in scopes],
    )
    return key


def add_participant(session: Session, *, name: str, scopes: Sequence[Scope], clock: Clock) -> str:
    """Register a platform and return its first API key (shown once)."""
    cleaned = name.strip()
    if not cleaned:
        raise HubError(422, ParticipantCode.INVALID_NAME, "A participant needs a name.")
    if session.scalar(select(Participant).where(Participant.name == cleaned)) is not None:
        raise HubError(
            409, ParticipantCode.PARTICIPANT_EXISTS, f"A participant named {cleaned!r} exists."
        )
    participant = Participant(name=cleaned, status=ParticipantState.ACTIVE, created_at=clock.now())
    session.add(participant)
    session.flush()
    record_event(
        session,
        clock=clock,
        actor="operator",
        action="participant.added",
        subject=f"participant:{participant.id}",
    )
    return _issue_key(session, participant, scopes, clock)


def get_participant(session: Session, *, name: str) -> Participant:
    """The participant called `name`."""
    found = session.scalar(select(Participant).where(Participant.name == name))
    if found is None:
        raise HubError(404, ParticipantCode.UNKNOWN_PARTICIPANT, f"No participant named {name!r}.")
    return found


def names(session: Session, participant_ids: Sequence[int]) -> dict[int, str]:
    """The names of these participants, by id."""
    if not participant_ids:
        return {}
    rows = session.execute(
        select(Participant.id, Participant.name).where(Participant.id.in_(set(participant_ids)))
    )
    return {row.id: row.name for row in rows}


def list_participants(session: Session) -> list[tuple[Participant, list[ApiKey]]]:
    """Every participant with its keys (active and revoked)."""
    result = []
    for participant in session.scalars(select(Participant).order_by(Participant.id)):
        keys = list(session.scalars(select(ApiKey).where(ApiKey.participant_id == participant.id)))
        result.append((participant, keys))
    return result


def revoke_participant(session: Session, *, name: str, clock: Clock) -> None:
    """Revoke a participant and every key it has."""
    participant = get_participant(session, name=name)
    participant.status = ParticipantState.REVOKED
    _revoke_keys(session, participant, clock)
    record_event(
        session,
        clock=clock,
        actor="operator",
        action="participant.revoked",
        subject=f"participant:{participant.id}",
    )


def rotate_key(session: Session, *, name: str, clock: Clock) -> str:
    """Revoke a participant's keys and issue a new one with the same scopes."""
    participant = get_participant(session, name=name)
    if participant.status != ParticipantState.ACTIVE:
        raise HubError(
            409, ParticipantCode.PARTICIPANT_REVOKED, f"{name!r} is revoked; add it again instead."
        )
    keys = _revoke_keys(session, participant, clock)
    scopes = sorted({Scope(s) for key in keys for s in key.scopes.split(",") if s})
    return _issue_key(
        session, participant, scopes or [Scope.FEED_READ, Scope.FEEDBACK_WRITE], clock
    )


def _revoke_keys(session: Session, participant: Participant, clock: Clock) -> list[ApiKey]:
    keys = list(
        session.scalars(
            select(ApiKey).where(
                ApiKey.participant_id == participant.id, ApiKey.revoked_at.is_(None)
            )
        )
    )
    for key in keys:
        key.revoked_at = clock.now()
        record_event(
            session,
            clock=clock,
            actor="operator",
            action="key.revoked",
            subject=f"participant:{participant.id}",
            prefix=key.prefix,
        )
    return keys


def authenticate(session: Session, presented: str | None, scope: Scope) -> Caller:
    """The caller holding `presented`, if the key is valid, active and has `scope`."""
    if not presented:
        raise HubError(
            401,
            ParticipantCode.MISSING_KEY,
            "This endpoint needs an API key: 'Authorization: Bearer rk_...'.",
        )
    prefix = key_prefix(presented.strip())
    row = session.scalar(select(ApiKey).where(ApiKey.prefix == prefix)) if prefix else None
    if row is None or not digest_matches(row.key_hash, presented.strip()):
        raise HubError(401, ParticipantCode.INVALID_KEY, "The API key is not valid.")
    if row.revoked_at is not None or row.participant.status != ParticipantState.ACTIVE:
        raise HubError(
            401,
            ParticipantCode.REVOKED_KEY,
            "The API key has been revoked; ask the hub for a new one.",
        )
    scopes = frozenset(s for s in row.scopes.split(",") if s)
    if scope.value not in scopes:
        raise HubError(
            403, ParticipantCode.MISSING_SCOPE, f"The API key lacks the '{scope.value}' scope."
        )
    return Caller(row.participant_id, row.participant.name, scopes)


def authenticate_any(session: Session, presented: Sequence[str], scope: Scope) -> Caller:
    """The one platform all the `presented` keys belong to (StopNCII's clients may send the same
    key in two headers), each valid and holding `scope`."""
    if not presented:
        raise HubError(
            401,
            ParticipantCode.MISSING_KEY,
            "Send the API key in Ocp-Apim-Subscription-Key / x-functions-key.",
        )
    callers = [authenticate(session, key, scope) for key in dict.fromkeys(presented)]
    if len({c.participant_id for c in callers}) != 1:
        raise HubError(
            401, ParticipantCode.INVALID_KEY, "The two key headers belong to different platforms."
        )
    return callers[0]
