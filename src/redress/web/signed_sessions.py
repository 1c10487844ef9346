"""Signed cookie values: what a browser hands back is accepted only if this server signed it.

A session cookie holds a random token signed with a key of the server's (HMAC through
`itsdangerous`); made-up or altered cookies are turned away without a database lookup. The token
itself means nothing: what it opens is kept on the server, so ending a session there makes every
copy of the cookie worthless. With `max_age`, the signature also carries the time it was made and
is refused once older, measured on the injected clock (tests move it instead of waiting).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from itsdangerous import BadSignature, Signer, TimestampSigner

from redress.core.clock import Clock, SystemClock

#: Longer cookies were not made here (a token and a signature are well under this).
MAX_COOKIE_LENGTH = 200


class _ClockedSigner(TimestampSigner):
    """A timestamp signer that reads the time from a `Clock`."""

    def __init__(self, key: bytes, salt: str, clock: Clock) -> None:
        super().__init__(key, salt=salt)
        self._clock = clock

    def get_timestamp(self) -> int:
        """The clock's time in whole seconds."""
        return int(self._clock.now().timestamp())


@dataclass(frozen=True)
class SignedCookie:
    """Signs values for a cookie and checks what comes back.

    `salt` keeps signatures for one purpose from being accepted for another under the same key.
    """

    key: bytes
    salt: str
    max_age: timedelta | None = None
    clock: Clock = field(default_factory=SystemClock)

    def sign(self, value: str) -> str:
        """`value` with its signature, ready for a cookie."""
        if self.max_age is None:
            return Signer(self.key, salt=self.salt).sign(value).decode()
        return _ClockedSigner(self.key, self.salt, self.clock).sign(value).decode()

    def unsign(self, cookie: str | None) -> str | None:
        """The value in `cookie` if this key signed it (and, with `max_age`, not too long ago);
        None for a missing, over-long, altered, foreign or expired cookie."""
        if not cookie or len(cookie) > MAX_COOKIE_LENGTH:
            return None
        try:
            if self.max_age is None:
                value = Signer(self.key, salt=self.salt).unsign(cookie)
            else:
                timed = _ClockedSigner(self.key, self.salt, self.clock)
                value = timed.unsign(cookie, max_age=int(self.max_age.total_seconds()))
        except BadSignature:  # also SignatureExpired, a subclass
            return None
        return value.decode()
