"""The review queue's request bodies."""

from __future__ import annotations

from pydantic import BaseModel, Field


class DecisionIn(BaseModel):
    """A moderator's verdict."""

    decision: str = Field(json_schema_extra={"enum": ["Blocked", "NotBlocked"]})
    moderator: str = Field(default="api", max_length=100)
