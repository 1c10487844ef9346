"""Platforms and their API keys: add, list, revoke, rotate, and authenticate a request."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from redress.hub.api_keys import Scope, digest_matches, key_prefix, new_api_key
from redress.hub.errors import HubError
from redress.hub.events import now, record_event
from redress.hub.models import ApiKey, Participant


@dataclass(frozen=True, slots=True)
class Caller:
    """An authenticated platform and what its key may do."""

    participant_id: int
    name: str
    scopes: frozenset[str]


def _issue_key(session: Session, participant: Participant, scopes: Sequence[Scope]) -> str:
    key, prefix, digest = new_api_key()
    session.add(
        ApiKey(
            participant_id=participant.id,
            prefix=prefix,
            key_hash=digest,
            scopes=",".join(s.value for s in scopes),
            created_at=now(),
        )
    )
    record_event(
        session,
        actor="operator",
        action="key.issued",
        subject=f"participant:{participant.id}",
        prefix=prefix,
        scopes=[s.value for s in scopes],
    )
    return key


def add_participant(session: Session, name: str, scopes: Sequence[Scope]) -> str:
    """Register a platform and return its first API key (shown once)."""
    cleaned = name.strip()
    if not cleaned:
        raise HubError(422, "invalid_name", "A participant needs a name.")
    if session.scalar(select(Participant).where(Participant.name == cleaned)) is not None:
        raise HubError(409, "participant_exists", f"A participant named {cleaned!r} exists.")
    participant = Participant(name=cleaned, status="active", created_at=now())
    session.add(participant)
    session.flush()
    record_event(
        session,
        actor="operator",
        action="participant.added",
        subject=f"participant:{participant.id}",
    )
    return _issue_key(session, participant, scopes)


def get_participant(session: Session, name: str) -> Participant:
    """The participant called `name`."""
    found = session.scalar(select(Participant).where(Participant.name == name))
    if found is None:
        raise HubError(404, "unknown_participant", f"No participant named {name!r}.")
    return found


def list_participants(session: Session) -> list[tuple[Participant, list[ApiKey]]]:
    """Every participant with its keys (active and revoked)."""
    result = []
    for participant in session.scalars(select(Participant).order_by(Participant.id)):
        keys = list(session.scalars(select(ApiKey).where(ApiKey.participant_id == participant.id)))
        result.append((participant, keys))
    return result


def revoke_participant(session: Session, name: str) -> None:
    """Revoke a participant and every key it has."""
    participant = get_participant(session, name)
    participant.status = "revoked"
    _revoke_keys(session, participant)
    record_event(
        session,
        actor="operator",
        action="participant.revoked",
        subject=f"participant:{participant.id}",
    )


def rotate_key(session: Session, name: str) -> str:
    """Revoke a participant's keys and issue a new one with the same scopes."""
    participant = get_participant(session, name)
    if participant.status != "active":
        raise HubError(409, "participant_revoked", f"{name!r} is revoked; add it again instead.")
    keys = _revoke_keys(session, participant)
    scopes = sorted({Scope(s) for key in keys for s in key.scopes.split(",") if s})
    return _issue_key(session, participant, scopes or [Scope.FEED_READ, Scope.FEEDBACK_WRITE])


def _revoke_keys(session: Session, participant: Participant) -> list[ApiKey]:
    keys = list(
        session.scalars(
            select(ApiKey).where(
                ApiKey.participant_id == participant.id, ApiKey.revoked_at.is_(None)
            )
        )
    )
    for key in keys:
        key.revoked_at = now()
        record_event(
            session,
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
            401, "missing_key", "This endpoint needs an API key: 'Authorization: Bearer rk_...'."
        )
    prefix = key_prefix(presented.strip())
    row = session.scalar(select(ApiKey).where(ApiKey.prefix == prefix)) if prefix else None
    if row is None or not digest_matches(row.key_hash, presented.strip()):
        raise HubError(401, "invalid_key", "The API key is not valid.")
    if row.revoked_at is not None or row.participant.status != "active":
        raise HubError(
            401, "revoked_key", "The API key has been revoked; ask the hub for a new one."
        )
    scopes = frozenset(s for s in row.scopes.split(",") if s)
    if scope.value not in scopes:
        raise HubError(403, "missing_scope", f"The API key lacks the '{scope.value}' scope.")
    return Caller(row.participant_id, row.participant.name, scopes)
