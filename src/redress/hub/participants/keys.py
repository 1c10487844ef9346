"""Platforms' API keys: ``rk_<prefix>_<secret>``. The prefix is public and finds the row; only
the SHA-256 of the whole key is stored (keys are 256-bit random, so a slow hash adds nothing)."""

from __future__ import annotations

import hashlib
import hmac
import secrets


def new_api_key() -> tuple[str, str, str]:
    """(full key shown once, public prefix, stored hash)."""
    prefix = secrets.token_hex(6)
    key = f"rk_{prefix}_{secrets.token_urlsafe(32)}"
    return key, prefix, key_digest(key)


def key_digest(key: str) -> str:
    """SHA-256 hex of a key."""
    return hashlib.sha256(key.encode()).hexdigest()


def key_prefix(key: str) -> str | None:
    """The lookup prefix of a well-formed key, else None."""
    parts = key.split("_", 2)
    if len(parts) != 3 or parts[0] != "rk" or len(parts[1]) != 12:
        return None
    return parts[1]


def digest_matches(stored: str, key: str) -> bool:
    """Constant-time comparison of a presented key with the stored digest."""
    return hmac.compare_digest(stored, key_digest(key))
