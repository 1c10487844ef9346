"""Double-submit CSRF (redress.web.csrf): the form's value must be the cookie's, a browser keeps
its well-formed token, and a missing, short, over-long or different value is refused."""

from __future__ import annotations

from starlette.requests import Request

from redress.web import csrf


def request_with(cookie: str | None) -> Request:
    headers = [] if cookie is None else [(b"cookie", f"{csrf.COOKIE}={cookie}".encode())]
    return Request({"type": "http", "method": "POST", "path": "/", "headers": headers})


def test_round_trip() -> None:
    fresh = request_with(None)
    token = csrf.token_for(fresh)
    assert len(token) >= csrf.MIN_LENGTH and csrf.needs_cookie(fresh, token)
    returning = request_with(token)
    assert csrf.token_for(returning) == token and not csrf.needs_cookie(returning, token)
    assert csrf.matches(returning, token)


def test_new_tokens_are_random() -> None:
    assert len({csrf.new_token() for _ in range(50)}) == 50


def test_tampered_or_missing_values_are_refused() -> None:
    token = csrf.new_token()
    assert not csrf.matches(request_with(token), ("A" if token[0] != "A" else "B") + token[1:])
    assert not csrf.matches(request_with(token), "")
    assert not csrf.matches(request_with(token), csrf.new_token())
    assert not csrf.matches(request_with(None), token)
    assert not csrf.matches(request_with(None), "")


def test_malformed_cookies_are_replaced_not_trusted() -> None:
    for bad in ("short", "x" * (csrf.MAX_LENGTH + 1)):
        request = request_with(bad)
        token = csrf.token_for(request)
        assert token != bad and csrf.needs_cookie(request, token)
