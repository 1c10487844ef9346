"""The participants' refusals: names, and API keys that are missing, wrong, revoked or short of
a scope."""

from __future__ import annotations

from enum import StrEnum


class ParticipantCode(StrEnum):
    """Codes the participants domain answers with."""

    INVALID_NAME = "invalid_name"
    PARTICIPANT_EXISTS = "participant_exists"
    UNKNOWN_PARTICIPANT = "unknown_participant"
    PARTICIPANT_REVOKED = "participant_revoked"
    MISSING_KEY = "missing_key"
    INVALID_KEY = "invalid_key"
    REVOKED_KEY = "revoked_key"
    MISSING_SCOPE = "missing_scope"
