"""The cases' refusals, and the one answer for a wrong case number or PIN."""

from __future__ import annotations

from enum import StrEnum

from redress.hub.errors import HubError


class CaseCode(StrEnum):
    """Codes the cases domain answers with."""

    WRONG_CASE_OR_PIN = "wrong_case_or_pin"
    LOCKED = "locked"
    STATEMENT_CHANGED = "statement_changed"
    CASE_FULL = "case_full"
    IDEMPOTENCY_CONFLICT = "idempotency_conflict"
    ALREADY_CREATED = "already_created"
    CASE_WITHDRAWN = "case_withdrawn"
    UNKNOWN_ITEM = "unknown_item"
    INVALID_EMAIL = "invalid_email"


def not_found_or_wrong_pin() -> HubError:
    """The one answer for an unknown case number or a wrong PIN (no existence oracle)."""
    return HubError(
        401,
        CaseCode.WRONG_CASE_OR_PIN,
        "The case number or the PIN is not right. Check both and try again; after several wrong "
        "tries the case is locked for a while.",
    )


def locked(seconds: int) -> HubError:
    """Too many wrong PINs for this case number or from this client."""
    minutes = max(1, round(seconds / 60))
    return HubError(
        429,
        CaseCode.LOCKED,
        f"Too many wrong tries. For your safety, try again in about {minutes} minute(s).",
        retry_after=seconds,
    )
