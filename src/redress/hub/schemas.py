"""The hub's JSON shapes (Pydantic). The minimal shapes are fixed for other tools; fields may be
added, never renamed."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from redress.hashing.json_schema import signal_schema
from redress.hashing.variants import BANK_VARIANTS

#: The variant names of docs/variants.md: anything else would be free text in every platform's
#: feed (and the compact feed has room for 255 distinct names a block).
VARIANT_NAMES = tuple(spec.name for spec in BANK_VARIANTS)

#: What `set_contact` accepts as an email address (surrounding whitespace is stripped). ASCII
#: whitespace only: Python's and JSON Schema's `\s` differ.
EMAIL_PATTERN = r"^[ \t\n\r\f\v]*[^ \t\n\r\f\v@]+@[^ \t\n\r\f\v@]+[ \t\n\r\f\v]*$"


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


class CaseCreate(BaseModel):
    """`POST /v1/cases`."""

    model_config = ConfigDict(extra="forbid")

    statement_version: str = Field(max_length=64)
    items: list[ItemIn] = Field(min_length=1)
    idempotency_key: str | None = Field(default=None, min_length=8, max_length=128)


class CaseCreated(BaseModel):
    """The credentials, shown once."""

    case_number: str
    pin: str


class PinIn(BaseModel):
    """Proof of being the case's owner."""

    model_config = ConfigDict(extra="forbid")

    pin: str = Field(min_length=1, max_length=32)


class WithdrawIn(PinIn):
    """Withdraw the whole case, or one item (its `ref`)."""

    item: str | None = Field(default=None, max_length=40)


class AddItemsIn(PinIn):
    """More items for an existing case."""

    items: list[ItemIn] = Field(min_length=1)


class ContactIn(PinIn):
    """An email for notifications (encrypted at rest), or null to delete it."""

    email: str | None = Field(
        default=None, max_length=254, json_schema_extra={"pattern": EMAIL_PATTERN}
    )


class ItemStatus(BaseModel):
    """One item's outcome across platforms; never which user uploaded what. `checking`: the
    hub's staff check it before it is shared with platforms."""

    item: str
    status: Literal["active", "checking", "withdrawn"]
    signals: int
    platforms_matched: int
    platforms_removed: int
    platforms_reviewing: int
    platforms_not_confirmed: int
    disputed: bool


class CaseStatus(BaseModel):
    """`POST /v1/cases/{case_number}/status`."""

    case_number: str
    status: Literal["active", "withdrawn"]
    created_at: str
    statement_version: str
    contact_on_file: bool
    items: list[ItemStatus]


class Statement(BaseModel):
    """`GET /v1/statement`."""

    version: str
    text: str


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
