"""The negative bank's request bodies, and the links of its OpenAPI document."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from redress.agent.check.schemas import SignalIn
from redress.hashing.json_schema import signal_schema


class NegativeSignalIn(SignalIn):
    """A benign hash for the negative bank (PDQ, MD5 or SHA-256)."""

    model_config = ConfigDict(json_schema_extra=signal_schema(("pdq", "md5", "sha256")))


class NegativeIn(BaseModel):
    """Benign hashes for the negative bank."""

    signals: list[NegativeSignalIn] = Field(min_length=1, max_length=10_000)
    note: str | None = Field(default=None, max_length=500)


NEGATIVE_LINKS = {
    "RemoveFirst": {
        "operationId": "negative_remove_v1_negative__entry_id__delete",
        "parameters": {"entry_id": "$response.body#/entries/0/id"},
    }
}
