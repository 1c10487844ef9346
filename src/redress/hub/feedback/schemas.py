"""The feedback's JSON shapes: platforms' verdicts on signals, in StopNCII's vocabulary."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from redress.hashing.json_schema import signal_schema

FeedbackValue = Literal["PendingReview", "Blocked", "NotBlocked"]


class FeedbackIn(BaseModel):
    """One verdict on one signal."""

    model_config = ConfigDict(extra="forbid", json_schema_extra=signal_schema())

    type: str = Field(max_length=16)
    value: str = Field(max_length=200_000)
    feedback: FeedbackValue
    tags: list[str] = Field(default_factory=list, max_length=32)


class FeedbackBatch(BaseModel):
    """`POST /v1/feedback`."""

    model_config = ConfigDict(extra="forbid")

    feedback: list[FeedbackIn] = Field(min_length=1, max_length=1000)


class FeedbackResult(BaseModel):
    """What happened to each verdict, in order."""

    recorded: int
    unknown: list[int]
    disputed: list[int]
