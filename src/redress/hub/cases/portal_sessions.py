"""Survivors' sign-ins on the portal, held on the server so that they can end.

The browser keeps a random token (signed, in an HttpOnly cookie); the hub keeps only the token's
SHA-256, the case, and the times. A session ends at the first of: `absolute` after sign-in,
`idle` after its last request, sign-out, quick exit, or the case being withdrawn. Ended and
expired rows are deleted whenever someone signs in, so the table holds live sign-ins only.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session

from redress.hub.cases.models import PortalSession

#: A session's `last_seen_at` is written at most this often (not on every page view).
TOUCH_EVERY = timedelta(seconds=30)


@dataclass(frozen=True, slots=True)
class SessionLimits:
    """How long a sign-in may last: `absolute` from sign-in, `idle` between requests."""

    absolute: timedelta
    idle: timedelta

    @classmethod
    def minutes(cls, absolute: int, idle: int) -> SessionLimits:
        """Limits from minutes; the idle limit never exceeds the absolute one."""
        return cls(timedelta(minutes=absolute), timedelta(minutes=min(idle, absolute)))


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start(session: Session, case_id: int, limits: SessionLimits, at: datetime) -> str:
    """Open a session for the case; returns the token for the cookie (never stored as is).

    Ended and expired sessions of every case are deleted first.
    """
    purge(session, at)
    token = secrets.token_urlsafe(32)
    session.add(
        PortalSession(
            token_hash=_digest(token),
            case_id=case_id,
            created_at=at,
            last_seen_at=at,
            expires_at=at + limits.absolute,
            revoked_at=None,
        )
    )
    return token


def resolve(session: Session, token: str, limits: SessionLimits, at: datetime) -> int | None:
    """The case a live session's token belongs to (and the session counts as used now), or
    None when the token is unknown, revoked, past its absolute end, or idle too long."""
    row = session.scalar(select(PortalSession).where(PortalSession.token_hash == _digest(token)))
    if row is None or row.revoked_at is not None:
        return None
    last_seen = row.last_seen_at
    if at >= row.expires_at or at >= last_seen + limits.idle:
        return None
    if at - last_seen >= TOUCH_EVERY:
        row.last_seen_at = at
    return row.case_id


def end(session: Session, token: str, at: datetime) -> bool:
    """End the session with this token; whether there was a live one."""
    ended = session.execute(
        update(PortalSession)
        .where(PortalSession.token_hash == _digest(token), PortalSession.revoked_at.is_(None))
        .values(revoked_at=at)
    )
    return bool(getattr(ended, "rowcount", 0))


def end_case(session: Session, case_id: int, at: datetime) -> int:
    """End every session of the case (it was withdrawn); how many were live."""
    ended = session.execute(
        update(PortalSession)
        .where(PortalSession.case_id == case_id, PortalSession.revoked_at.is_(None))
        .values(revoked_at=at)
    )
    return int(getattr(ended, "rowcount", 0))


def purge(session: Session, at: datetime) -> int:
    """Delete ended sessions and those past their absolute end; how many went.

    Sessions that only went idle are left until their absolute end: they cannot be used
    (`resolve` refuses them) and are at most `absolute` old.
    """
    gone = session.execute(
        delete(PortalSession).where(
            or_(PortalSession.revoked_at.is_not(None), PortalSession.expires_at <= at)
        )
    )
    return int(getattr(gone, "rowcount", 0))
