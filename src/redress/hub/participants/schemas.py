"""The participants' vocabulary: what an API key may do (its scopes)."""

from __future__ import annotations

from enum import StrEnum


class Scope(StrEnum):
    """What a key may do."""

    FEED_READ = "feed:read"
    FEEDBACK_WRITE = "feedback:write"
    HASHES_SUBMIT = "hashes:submit"


DEFAULT_SCOPES = (Scope.FEED_READ, Scope.FEEDBACK_WRITE)


def parse_scopes(text: str) -> tuple[Scope, ...]:
    """`feed:read,feedback:write` to scopes; raises ValueError naming an unknown one."""
    scopes = []
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        try:
            scopes.append(Scope(part))
        except ValueError:
            known = ", ".join(s.value for s in Scope)
            raise ValueError(f"unknown scope {part!r}; known scopes: {known}") from None
    return tuple(dict.fromkeys(scopes))
