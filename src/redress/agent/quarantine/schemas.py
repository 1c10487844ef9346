"""The quarantine API's bodies."""

from __future__ import annotations

from pydantic import BaseModel, Field


class SignalOut(BaseModel):
    """A bank signal."""

    type: str
    value: str


class QuarantineOut(BaseModel):
    """One quarantine: the signal, why (its count against the threshold), when, and whether the
    hub has been told and an operator released it."""

    id: int
    hub: str
    signal: SignalOut
    distinct_uploads: int = Field(description="Distinct uploads matched within the window.")
    threshold: int
    window_seconds: float
    quarantined_at: str
    reported_at: str | None = Field(description="When the hub acknowledged the report.")
    released_at: str | None
    released_by: str | None


class QuarantineList(BaseModel):
    """`GET /v1/quarantine`: newest first."""

    quarantined: list[QuarantineOut]


class ReleaseIn(BaseModel):
    """Who releases."""

    operator: str = Field(default="api", min_length=1, max_length=100)
