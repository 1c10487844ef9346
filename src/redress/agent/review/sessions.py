"""Moderators' sign-ins on the agent's review page, held in the agent process.

The cookie holds a random token; the agent keeps its SHA-256 with the moderator's name and
times. A sign-in ends after `absolute` (8 hours), after `idle` (1 hour) without a request, or
when the moderator signs out — and every sign-in ends when the agent restarts, which is also
how to end them all at once (with a new token, if it leaked). The agent is one process, so
memory is the right place: nothing to migrate, nothing left behind.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from redress.core.clock import Clock, SystemClock


@dataclass
class _Session:
    name: str
    started: datetime
    last_seen: datetime


@dataclass
class ModeratorSessions:
    """Live moderator sign-ins; thread-safe (page routes run in a thread pool)."""

    absolute: timedelta = timedelta(hours=8)
    idle: timedelta = timedelta(hours=1)
    clock: Clock = field(default_factory=SystemClock)
    _sessions: dict[bytes, _Session] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _csrf_key: bytes = field(default_factory=lambda: secrets.token_bytes(32))

    def start(self, name: str) -> str:
        """Sign `name` in; returns the token for the cookie."""
        token = secrets.token_urlsafe(32)
        at = self.clock.now()
        with self._lock:
            self._purge(at)
            self._sessions[_digest(token)] = _Session(name, at, at)
        return token

    def who(self, token: str | None) -> str | None:
        """The moderator signed in with this token, while the sign-in lives."""
        if not token:
            return None
        at = self.clock.now()
        with self._lock:
            found = self._sessions.get(_digest(token))
            if found is None:
                return None
            if at >= found.started + self.absolute or at >= found.last_seen + self.idle:
                del self._sessions[_digest(token)]
                return None
            found.last_seen = at
            return found.name

    def end(self, token: str | None) -> None:
        """Sign out: the token stops working everywhere."""
        if token:
            with self._lock:
                self._sessions.pop(_digest(token), None)

    def csrf(self, token: str) -> str:
        """The CSRF value for forms of this sign-in (bound to it, useless after it ends)."""
        return hmac.new(self._csrf_key, token.encode(), hashlib.sha256).hexdigest()

    def csrf_matches(self, token: str | None, submitted: str) -> bool:
        """Whether `submitted` is this sign-in's CSRF value."""
        return token is not None and hmac.compare_digest(
            self.csrf(token).encode(), submitted.encode()
        )

    def __len__(self) -> int:
        with self._lock:
            return len(self._sessions)

    def _purge(self, at: datetime) -> None:
        ended = [
            key
            for key, s in self._sessions.items()
            if at >= s.started + self.absolute or at >= s.last_seen + self.idle
        ]
        for key in ended:
            del self._sessions[key]


def _digest(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()
