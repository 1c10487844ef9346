"""The StopNCII-compatible API's refusals (beside the participants' key codes)."""

from __future__ import annotations

from enum import StrEnum


class StopnciiCode(StrEnum):
    """Codes the StopNCII-compatible API answers with."""

    BAD_PAGE_TOKEN = "bad_page_token"  # noqa: S105 (a code, not a secret)
    INVALID_SIGNAL = "invalid_signal"
