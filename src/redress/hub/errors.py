"""Errors the hub's API returns: an HTTP status, a stable machine-readable `code` and a `detail`
that says what was wrong and what to do."""

from __future__ import annotations

from redress.core.errors import RedressError


class HubError(RedressError):
    """A refusal of the hub's (the shape is `RedressError`'s)."""


def not_found_or_wrong_pin() -> HubError:
    """The one answer for an unknown case number or a wrong PIN (no existence oracle)."""
    return HubError(
        401,
        "wrong_case_or_pin",
        "The case number or the PIN is not right. Check both and try again; after several wrong "
        "tries the case is locked for a while.",
    )


def locked(seconds: int) -> HubError:
    """Too many wrong PINs for this case number or from this client."""
    minutes = max(1, round(seconds / 60))
    return HubError(
        429,
        "locked",
        f"Too many wrong tries. For your safety, try again in about {minutes} minute(s).",
        retry_after=seconds,
    )
