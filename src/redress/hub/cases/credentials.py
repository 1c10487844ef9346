"""Survivors' credentials: case numbers that are easy to read aloud and catch typos, and PINs
stored only as argon2id hashes.

A case number is 11 random characters from a 23-symbol alphabet without look-alikes (no 0/O/Q,
1/I/L, 5/S, 8/B, U/V, Y/Z) — about 50 bits — and a check character, shown in three groups of
four: ``K7QM-4TDP-9XHC``. The check makes the weighted sum of all twelve symbols (weights 1-12)
divisible by 23, a prime, so every single-character typo and every swap of two neighbours is
caught before any PIN is tried against the number.
"""

from __future__ import annotations

import hashlib
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

ALPHABET = "2346789ACDEFGHJKMNPRTWX"
_MODULUS = len(ALPHABET)  # 23, prime
_RANDOM_CHARS = 11
PIN_DIGITS = 8

_hasher = PasswordHasher()  # argon2id with the library's current recommended parameters
_DUMMY_HASH = _hasher.hash("0" * PIN_DIGITS)


def _checksum(symbols: str) -> int:
    return sum((i + 1) * ALPHABET.index(c) for i, c in enumerate(symbols)) % _MODULUS


def new_case_number() -> str:
    """A fresh random case number with its check character, grouped for reading."""
    body = "".join(secrets.choice(ALPHABET) for _ in range(_RANDOM_CHARS))
    weight = _RANDOM_CHARS + 1
    # Solve weight * check = -sum (mod 23) for the check symbol.
    check = (-_checksum(body) * pow(weight, -1, _MODULUS)) % _MODULUS
    plain = body + ALPHABET[check]
    return "-".join(plain[i : i + 4] for i in range(0, len(plain), 4))


def normalise_case_number(text: str) -> str | None:
    """The canonical grouped form of a typed case number, or None if it cannot be one.

    Spaces, dashes and case do not matter; a wrong check character means a typo.
    """
    plain = "".join(ch for ch in text.upper() if ch not in " -\t")
    if len(plain) != _RANDOM_CHARS + 1 or any(ch not in ALPHABET for ch in plain):
        return None
    if _checksum(plain) != 0:
        return None
    return "-".join(plain[i : i + 4] for i in range(0, len(plain), 4))


def new_pin() -> str:
    """An 8-digit PIN, shown to the survivor once."""
    return "".join(secrets.choice("0123456789") for _ in range(PIN_DIGITS))


def hash_pin(pin: str) -> str:
    """The argon2id hash that is stored instead of the PIN."""
    return _hasher.hash(pin)


def verify_pin(pin_hash: str | None, pin: str) -> bool:
    """Whether `pin` matches; with no hash (no such case) the same work is done and False."""
    try:
        return _hasher.verify(pin_hash or _DUMMY_HASH, pin) and pin_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def digest_key(kind: str, value: str) -> str:
    """A stable, non-reversible key for counting attempts against `value` (case number, IP)."""
    return f"{kind}:" + hashlib.sha256(f"redress:{kind}:{value}".encode()).hexdigest()[:64]
