"""The cases' JSON shapes (what the survivor portal and other tools send and get). The minimal
shapes are fixed for other tools; fields may be added, never renamed."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from redress.hub.bank.schemas import ItemIn

#: What `set_contact` accepts as an email address (surrounding whitespace is stripped). ASCII
#: whitespace only: Python's and JSON Schema's `\s` differ.
EMAIL_PATTERN = r"^[ \t\n\r\f\v]*[^ \t\n\r\f\v@]+@[^ \t\n\r\f\v@]+[ \t\n\r\f\v]*$"


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
