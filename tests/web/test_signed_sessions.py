"""Signed cookie values (redress.web.signed_sessions): a round trip works; an altered value or
signature, another key or purpose, an over-long cookie and (with max_age) an old signature are
refused, on a clock the test moves."""

from __future__ import annotations

from datetime import timedelta

import pytest

from redress.core.clock import ManualClock
from redress.web.signed_sessions import MAX_COOKIE_LENGTH, SignedCookie

KEY = b"k" * 32


def test_round_trip() -> None:
    cookie = SignedCookie(KEY, "portal-session")
    signed = cookie.sign("a-random-token")
    assert signed != "a-random-token" and signed.startswith("a-random-token.")
    assert cookie.unsign(signed) == "a-random-token"


@pytest.mark.parametrize("timed", [False, True])
def test_tampering_is_refused(timed: bool) -> None:
    cookie = SignedCookie(KEY, "s", max_age=timedelta(hours=1) if timed else None)
    signed = cookie.sign("token")
    value, _, signature = signed.rpartition(".")
    # The first character: the last one of base64 has spare bits that may not change the bytes.
    flipped = ("A" if signature[0] != "A" else "B") + signature[1:]
    assert cookie.unsign(f"{value}.{flipped}") is None
    assert cookie.unsign("other" + signed[len("token") :]) is None
    assert cookie.unsign(value) is None  # the signature cut off
    assert cookie.unsign("token") is None and cookie.unsign("") is None
    assert cookie.unsign(None) is None
    assert cookie.unsign(signed) == "token"


def test_another_key_or_purpose_is_refused() -> None:
    signed = SignedCookie(KEY, "portal-session").sign("token")
    assert SignedCookie(b"x" * 32, "portal-session").unsign(signed) is None
    assert SignedCookie(KEY, "another-purpose").unsign(signed) is None


def test_over_long_cookies_are_refused_unread() -> None:
    cookie = SignedCookie(KEY, "s")
    value = "t" * MAX_COOKIE_LENGTH
    assert cookie.unsign(cookie.sign(value)) is None
    short = "t" * 100
    assert cookie.unsign(cookie.sign(short)) == short


def test_expiry_on_an_injected_clock() -> None:
    clock = ManualClock()
    cookie = SignedCookie(KEY, "s", max_age=timedelta(minutes=10), clock=clock)
    signed = cookie.sign("token")
    clock.advance(9 * 60)
    assert cookie.unsign(signed) == "token"
    clock.advance(60 + 1)
    assert cookie.unsign(signed) is None
    # A fresh signature at the new time is good again; without max_age nothing expires.
    assert cookie.unsign(cookie.sign("token")) == "token"
    untimed = SignedCookie(KEY, "s", clock=clock)
    signed_untimed = untimed.sign("token")
    clock.advance(365 * 24 * 3600)
    assert untimed.unsign(signed_untimed) == "token"


def test_a_timed_signature_is_not_an_untimed_one() -> None:
    timed = SignedCookie(KEY, "s", max_age=timedelta(minutes=10), clock=ManualClock())
    untimed = SignedCookie(KEY, "s")
    assert untimed.unsign(timed.sign("token")) != "token"
    assert timed.unsign(untimed.sign("token")) is None
