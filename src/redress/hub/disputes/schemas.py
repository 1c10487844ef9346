"""The disputes' JSON shapes: platforms' over-matching reports."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from redress.hashing.json_schema import signal_schema


class OvermatchIn(BaseModel):
    """One signal a platform's agent saw match abnormally many distinct uploads."""

    model_config = ConfigDict(extra="forbid", json_schema_extra=signal_schema())

    type: str = Field(max_length=16)
    value: str = Field(max_length=200_000)
    distinct_uploads: int = Field(ge=1, le=10**9, description="Distinct uploads it matched.")
    window_seconds: float = Field(gt=0, le=366 * 86400, description="Within this many seconds.")


class OvermatchBatch(BaseModel):
    """`POST /v1/overmatching`."""

    model_config = ConfigDict(extra="forbid")

    reports: list[OvermatchIn] = Field(min_length=1, max_length=1000)


class OvermatchResult(BaseModel):
    """What happened to each report, in order: positions of unknown signals and of signals
    quarantined by this report."""

    recorded: int
    unknown: list[int]
    quarantined: list[int]
