"""The one error model of Redress: every refusal a caller can act on is a `RedressError` with an
HTTP status, a stable machine-readable `code`, a `detail` that says what was wrong and what to do,
and, for refusals that end (lock-outs, a full budget), `retry_after` in seconds.

Each domain names its codes in a `StrEnum` next to its service; the web layer turns any
`RedressError` into the same JSON body (`{"code", "detail", "retry_after"}`) in both apps, and the
portal looks its translated messages up by `code`.
"""

from __future__ import annotations

from enum import StrEnum


class RedressError(Exception):
    """A refusal the caller can act on."""

    def __init__(
        self, status: int, code: str | StrEnum, detail: str, *, retry_after: int | None = None
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.code: str = code  # a StrEnum member stays one (callers may compare by identity)
        self.detail = detail
        self.retry_after = retry_after

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.status}, {self.code!r})"
