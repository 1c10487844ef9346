"""Double-submit CSRF tokens for server-rendered forms.

The browser holds a random token in a SameSite=Strict, HttpOnly cookie, and every form (or
beacon) sends the same value back as a field. A page on another site can make the browser send
the cookie but cannot read it, so it cannot put the matching value in its form.
"""

from __future__ import annotations

import hmac
import secrets

from starlette.requests import Request

COOKIE = "redress_csrf"
#: A cookie outside these lengths was not made here: it is replaced, never trusted.
MIN_LENGTH = 20
MAX_LENGTH = 64


def new_token() -> str:
    """A fresh random token (32 bytes, URL-safe)."""
    return secrets.token_urlsafe(32)


def token_for(request: Request) -> str:
    """The token to put in this page's forms: the browser's own when it has a well-formed one,
    else a new one (which the response must then set with `needs_cookie`)."""
    token = request.cookies.get(COOKIE)
    if token and MIN_LENGTH <= len(token) <= MAX_LENGTH:
        return token
    return new_token()


def needs_cookie(request: Request, token: str) -> bool:
    """Whether the response must (re)set the CSRF cookie to `token`."""
    return request.cookies.get(COOKIE) != token


def matches(request: Request, submitted: str) -> bool:
    """Whether the submitted value is the one in this browser's CSRF cookie (constant time)."""
    cookie = request.cookies.get(COOKIE, "")
    return bool(cookie) and hmac.compare_digest(cookie.encode(), submitted.encode())
