"""StopNCII's JSON shapes, field for field (its camelCase names, through aliases where the
Python name differs). Request bodies keep their entries loosely typed where StopNCII's clients
expect a bad entry to be skipped rather than the whole request refused; each entry is then read
through its own model."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from redress.hashing.json_schema import value_pattern

TO_STOPNCII = {"pdq": "ImagePDQ", "md5": "VideoMD5"}
FROM_STOPNCII = {name: kind for kind, name in TO_STOPNCII.items()}


class FeedbackBody(BaseModel):
    """`POST /stopncii/v1/SubmitFeedback`. Each entry is `{"hashValue", "feedbackValue":
    PendingReview|Blocked|NotBlocked, "tags": [...]}`; an entry that is not one, or names a
    hash this hub does not hold, is skipped and listed in `skipped` (the rest are recorded)."""

    model_config = ConfigDict(extra="allow")

    hashFeedbacks: list[Any]  # noqa: N815 (StopNCII's field name)


def _stopncii_hash(signal_type: str, kind: str) -> dict[str, Any]:
    return {
        "title": signal_type,
        "properties": {
            "signalType": {"enum": [signal_type, f"StopNCIISignalType.{signal_type}"]},
            "hashValue": {"type": "string", "pattern": value_pattern(kind)},
        },
    }


class HashRecord(BaseModel):
    """One hash a platform found: `ImagePDQ` (64 hex characters) or `VideoMD5` (32)."""

    model_config = ConfigDict(
        extra="allow",
        json_schema_extra={
            "anyOf": [_stopncii_hash(name, kind) for name, kind in FROM_STOPNCII.items()]
        },
    )

    signalType: str  # noqa: N815 (StopNCII's field names)
    hashValue: str  # noqa: N815
    CSPFeedbacks: list[Any] = Field(default_factory=list)


class HashesBody(BaseModel):
    """`POST /stopncii/v1/SubmitHashes`."""

    model_config = ConfigDict(extra="allow")

    hashRecords: list[HashRecord]  # noqa: N815


class CspFeedback(BaseModel):
    """One platform verdict as StopNCII sends it: `{"hashValue", "feedbackValue", "tags"}`.
    The hash is read as text (absent: empty, so unknown); tags that are not a list are none."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    hash_value: str = Field(default="", alias="hashValue")
    feedback_value: Literal["PendingReview", "Blocked", "NotBlocked"] = Field(alias="feedbackValue")
    tags: list[str] = Field(default_factory=list)

    @field_validator("hash_value", mode="before")
    @classmethod
    def _as_text(cls, value: Any) -> str:
        return str(value)

    @field_validator("tags", mode="before")
    @classmethod
    def _tag_list(cls, value: Any) -> list[str]:
        return [str(tag) for tag in value] if isinstance(value, list) else []

    @classmethod
    def read(cls, entry: Any) -> CspFeedback | None:
        """The entry as a verdict, or None when it is not one (it is then skipped)."""
        try:
            return cls.model_validate(entry)
        except ValidationError:
            return None


class CspFeedbackOut(BaseModel):
    """A platform's verdict in a hash record."""

    feedback_value: str = Field(serialization_alias="feedbackValue")
    tags: list[str]
    source: str


class HashRecordOut(BaseModel):
    """One hash in `FetchHashes`: its state, the items holding it, platforms' verdicts."""

    last_mod_timestamp: int = Field(serialization_alias="lastModtimestamp")
    signal_type: str = Field(serialization_alias="signalType")
    hash_value: str = Field(serialization_alias="hashValue")
    hash_status: Literal["Active", "Withdrawn"] = Field(serialization_alias="hashStatus")
    case_numbers: dict[str, Literal["Active", "Withdrawn"]] = Field(
        serialization_alias="caseNumbers"
    )
    csp_feedbacks: list[CspFeedbackOut] = Field(serialization_alias="CSPFeedbacks")


class HashesPage(BaseModel):
    """`GET /stopncii/v1/FetchHashes`."""

    count: int
    next_page_token: str | None = Field(serialization_alias="nextPageToken")
    next_set_timestamp: int = Field(serialization_alias="nextSetTimestamp")
    has_more_records: bool = Field(serialization_alias="hasMoreRecords")
    hash_records: list[HashRecordOut] = Field(serialization_alias="hashRecords")
