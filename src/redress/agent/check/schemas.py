"""`check`'s request bodies, and what the OpenAPI document says beyond the routes: both bodies
of `/v1/check`, limits from the settings."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from redress.hashing.json_schema import signal_schema
from redress.web.openapi import schema_ref


class SignalIn(BaseModel):
    """A hash the platform already computed."""

    model_config = ConfigDict(json_schema_extra=signal_schema())

    type: str = Field(max_length=16)
    value: str = Field(max_length=2_000_000)  # vPDQ: the frame limit is the real bound


class CheckIn(BaseModel):
    """`POST /v1/check` with hashes."""

    signals: list[SignalIn] = Field(min_length=1, max_length=64)
    content_id: str | None = Field(default=None, max_length=200)


class BatchSignalIn(BaseModel):
    """A hash in a batch: one that is not valid is answered in place, with its error."""

    type: str = Field(max_length=16)
    value: str = Field(max_length=2_000_000)  # vPDQ: the frame limit is the real bound


class BatchCheckIn(BaseModel):
    """One piece of content in a batch."""

    signals: list[BatchSignalIn] = Field(min_length=1, max_length=64)
    content_id: str | None = Field(default=None, max_length=200)


class BatchIn(BaseModel):
    """`POST /v1/check/batch`: several pieces of content at once. Each is answered in order: its
    result, or `{"error": {"code", "detail"}}` when its hashes are not valid."""

    requests: list[BatchCheckIn] = Field(min_length=1)


#: `/v1/check` takes either body; the JSON one is the `CheckIn` schema.
CHECK_BODY = {
    "required": True,
    "content": {
        "application/json": {"schema": schema_ref(CheckIn)},
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "required": ["file"],
                "properties": {
                    "file": {
                        "type": "string",
                        "format": "binary",
                        "description": "The image or video; it is hashed here, then deleted "
                        "unless a match holds it for review.",
                    },
                    "content_id": {
                        "type": "string",
                        "description": "The platform's own id for the content (kept on reviews).",
                    },
                },
            }
        },
    },
}


def document_limits(document: dict[str, Any], max_batch: int) -> None:
    """Limits that come from the agent's settings, in the schemas they bound."""
    schemas = document["components"]["schemas"]
    schemas["BatchIn"]["properties"]["requests"]["maxItems"] = max_batch
