"""Survivors' credentials: case numbers, PINs and the keys attempts are counted under."""

from __future__ import annotations

import re

import pytest
from argon2 import PasswordHasher

from redress.hub.cases import credentials

PIN = "12345678"


def test_pins_are_eight_random_digits() -> None:
    pins = [credentials.new_pin() for _ in range(300)]
    assert all(re.fullmatch(r"[0-9]{8}", pin) for pin in pins)
    assert len(set(pins)) == len(pins)
    for position in range(8):  # every position varies over (nearly) all ten digits
        assert len({pin[position] for pin in pins}) >= 8


def test_case_numbers_are_grouped_checked_and_random() -> None:
    numbers = {credentials.new_case_number() for _ in range(300)}
    assert len(numbers) == 300
    for number in numbers:
        assert re.fullmatch(
            r"[2346789ACDEFGHJKMNPRTWX]{4}(-[2346789ACDEFGHJKMNPRTWX]{4}){2}", number
        )
        assert credentials.normalise_case_number(number) == number


@pytest.mark.parametrize(
    "typed",
    ["", "2222", "0" * 12, "O" * 12, "2" * 11 + "0", "2" * 13, "2222-2222-2222-2"],
)
def test_malformed_case_numbers_normalise_to_none(typed: str) -> None:
    assert credentials.normalise_case_number(typed) is None


def test_typing_variations_normalise_to_the_same_number() -> None:
    number = credentials.new_case_number()
    plain = number.replace("-", "")
    for typed in (plain.lower(), f" {plain[:6]} {plain[6:]}\t", number.lower()):
        assert credentials.normalise_case_number(typed) == number


def test_a_pin_verifies_only_against_its_own_hash() -> None:
    stored = credentials.hash_pin(PIN)
    assert stored.startswith("$argon2id$") and PIN not in stored
    assert credentials.verify_pin(stored, PIN)
    assert not credentials.verify_pin(stored, "87654321")
    assert not credentials.verify_pin("not a hash", PIN)
    # No case: never true, even for the PIN the stand-in hash was made from.
    assert not credentials.verify_pin(None, "0" * credentials.PIN_DIGITS)
    assert not credentials.verify_pin(None, PIN)


def test_an_unknown_case_costs_the_same_argon2_work(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """No timing oracle: with no such case a full argon2 verification is still done."""
    calls: list[str] = []
    original = PasswordHasher.verify

    def counting(self, hash_, password):  # type: ignore[no-untyped-def]
        calls.append(hash_ if isinstance(hash_, str) else hash_.decode())
        return original(self, hash_, password)

    monkeypatch.setattr(PasswordHasher, "verify", counting)
    stored = credentials.hash_pin(PIN)
    credentials.verify_pin(stored, "00000000")
    credentials.verify_pin(None, "00000000")
    assert len(calls) == 2
    # Same algorithm and cost parameters for the stand-in as for real hashes.
    assert calls[1].rsplit("$", 2)[0] == calls[0].rsplit("$", 2)[0]


def test_attempt_keys_are_stable_distinct_and_not_the_value() -> None:
    key = credentials.digest_key("case", "K7QM-4TDP-9XHC")
    assert re.fullmatch(r"case:[0-9a-f]{64}", key)
    assert key == credentials.digest_key("case", "K7QM-4TDP-9XHC")
    assert "K7QM" not in key
    assert key != credentials.digest_key("case", "K7QM-4TDP-9XHD")
    assert key.split(":")[1] != credentials.digest_key("client", "K7QM-4TDP-9XHC").split(":")[1]
