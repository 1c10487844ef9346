"""The bank's JSON shapes: hashes as submitted, and the feed. The minimal shapes are fixed for
other tools; fields may be added, never renamed."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from redress.hashing.json_schema import signal_schema
from redress.hashing.variants import BANK_VARIANTS

#: The variant names of docs/variants.md: anything else would be free text in every platform's
#: feed (and the compact feed has room for 255 distinct names a block).
VARIANT_NAMES = tuple(spec.name for spec in BANK_VARIANTS)


class SignalIn(BaseModel):
    """A hash as submitted: type and value, and for PDQ its quality (refused below 50)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra=signal_schema(pdq_quality=True))

    type: str = Field(max_length=16, examples=["pdq"])
    value: str = Field(max_length=200_000)
    quality: int | None = Field(default=None, ge=0, le=100)
    variant: str | None = Field(
        default=None, max_length=32, json_schema_extra={"enum": [*VARIANT_NAMES, None]}
    )

    @field_validator("variant")
    @classmethod
    def _known_variant(cls, variant: str | None) -> str | None:
        if variant is not None and variant not in VARIANT_NAMES:
            raise ValueError(f"unknown variant {variant!r}; known: {', '.join(VARIANT_NAMES)}")
        return variant


class ItemIn(BaseModel):
    """One image or video: its hashes (the original first, then any variants)."""

    model_config = ConfigDict(extra="forbid")

    # A parsing bound only; the hub's limit is the `max_signals_per_item` setting (32).
    signals: list[SignalIn] = Field(min_length=1, max_length=256)


class FeedSignal(BaseModel):
    """One feed entry."""

    seq: int
    op: Literal["add", "remove"]
    reason: str
    item: str
    type: str
    value: str
    variant: str | None = None


class FeedPage(BaseModel):
    """A page of the feed; pass `next_cursor` back as `cursor`."""

    entries: list[FeedSignal]
    next_cursor: str
    has_more: bool
