"""The hub's refusals: `HubError` (a `RedressError`) raised with a code from the domain's own
`StrEnum` (`CaseCode`, `FeedCode`, ...), so the codes on the wire are named in one place each."""

from __future__ import annotations

from enum import StrEnum

from redress.core.errors import RedressError


class HubError(RedressError):
    """A refusal of the hub's (the shape is `RedressError`'s)."""


class HubCode(StrEnum):
    """Codes that are the hub's as a whole rather than one domain's."""

    RATE_LIMITED = "rate_limited"
    DATABASE_UNAVAILABLE = "database_unavailable"
    MIGRATION_PENDING = "migration_pending"
    NOT_FOUND = "not_found"
    UNAUTHORISED = "unauthorised"
