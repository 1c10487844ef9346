"""The bank's refusals: submissions (too many, invalid, too flat), the feed's cursor, holds."""

from __future__ import annotations

from enum import StrEnum


class BankCode(StrEnum):
    """Codes the bank answers with."""

    TOO_MANY_ITEMS = "too_many_items"
    TOO_MANY_SIGNALS = "too_many_signals"
    INVALID_SIGNAL = "invalid_signal"
    LOW_QUALITY = "low_quality"
    BAD_CURSOR = "bad_cursor"
    UNKNOWN_HOLD = "unknown_hold"
    HOLD_DECIDED = "hold_decided"
