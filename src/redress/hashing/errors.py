"""Errors a user can cause when hashing: each has a stable machine-readable code and a message
that says what was wrong and what to do about it."""

from __future__ import annotations

from enum import StrEnum

from redress.core.errors import RedressError


class ErrorCode(StrEnum):
    """Stable codes for hashing failures; other tools match on these strings."""

    NOT_FOUND = "not_found"
    NOT_A_FILE = "not_a_file"
    UNREADABLE = "unreadable"
    EMPTY_FILE = "empty_file"
    NOT_MEDIA = "not_media"
    UNSUPPORTED_FORMAT = "unsupported_format"
    TRUNCATED = "truncated"
    CORRUPT = "corrupt"
    TOO_LARGE = "too_large"
    TOO_SMALL = "too_small"
    VIDEO_TOO_LONG = "video_too_long"
    VIDEO_TIMEOUT = "video_timeout"
    NO_VIDEO_STREAM = "no_video_stream"
    NO_APPLICABLE_TYPE = "no_applicable_type"
    INVALID_SIGNAL = "invalid_signal"
    INTERNAL = "internal_error"


#: The HTTP status an API answers with when it refuses a file or value for this reason.
_STATUS = {
    ErrorCode.TOO_LARGE: 413,
    ErrorCode.VIDEO_TOO_LONG: 413,
    ErrorCode.VIDEO_TIMEOUT: 413,
    ErrorCode.INTERNAL: 500,
}


class HashingError(RedressError):
    """A file or value that cannot be hashed or parsed, with a code and a user-facing message."""

    code: ErrorCode

    def __init__(self, code: ErrorCode, message: str) -> None:
        super().__init__(_STATUS.get(code, 422), code, message)
        self.code = code
        self.message = message

    def __reduce__(self) -> tuple[type[HashingError], tuple[ErrorCode, str]]:
        # Results cross process boundaries (the CLI's worker pool): pickle by code and message.
        return (HashingError, (self.code, self.message))

    def as_dict(self) -> dict[str, str]:
        """The error as the `{"code", "message"}` object of the JSONL output."""
        return {"code": self.code.value, "message": self.message}


class InvalidSignalError(HashingError, ValueError):
    """A hash value that is not valid for its signal type."""

    def __init__(self, message: str) -> None:
        super().__init__(ErrorCode.INVALID_SIGNAL, message)

    def __reduce__(self) -> tuple[type[InvalidSignalError], tuple[str]]:  # type: ignore[override]
        return (InvalidSignalError, (self.message,))
