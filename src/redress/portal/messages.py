"""What the portal says, keyed by code: refusals (the hub's error codes and the portal's own),
notices after an action, and the strings the browser's scripts show.

Every code the portal can receive has a message here in every language (tests/portal/
test_messages.py reads the codes from the code and checks). A code without one still gets a
translated "something went wrong" and is logged by its code, so the gap is found and fixed.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from redress.core.errors import RedressError
from redress.hashing.errors import ErrorCode
from redress.web.i18n import gettext as _
from redress.web.i18n import lazy as _l
from redress.web.logging import LOGGER


class PortalCode(StrEnum):
    """Refusals of the portal's own (the hub's services bring theirs)."""

    CSRF = "csrf"
    BAD_PAYLOAD = "bad_payload"
    INVALID_EMAIL = "invalid_email"
    SIGNED_OUT = "signed_out"
    BUSY = "busy"
    #: Shown for a code that has no message of its own (and logged).
    UNEXPECTED = "unexpected"


#: The hashing core's refusals that reach a survivor (the hub's validation of what the browser
#: sent); the others concern files on a server, which the portal never reads.
SURVIVOR_HASHING_CODES = (ErrorCode.INVALID_SIGNAL,)

#: The HTTP status of a page showing the portal's refusal (400 for the others).
_STATUS = {"csrf": 403, "bad_payload": 422, "locked": 429, "rate_limited": 429}


def status_of(code: str) -> int:
    """The status of a page that shows this refusal."""
    return _STATUS.get(code, 400)


class PortalError(RedressError):
    """A refusal to show on the page: an error code and the values its message needs."""

    def __init__(self, code: str, **values: Any) -> None:
        super().__init__(status_of(code), code, f"portal refusal: {code}")
        self.values = values


#: Friendly words for every error code (the API's English `detail` is for developers).
ERROR_MESSAGES: dict[str, str] = {
    "wrong_case_or_pin": _l(
        "The case number or the PIN is not right. Check both and try again. After several wrong "
        "tries, the case is locked for a while to protect it."
    ),
    "locked": _l(
        "There have been too many wrong tries, so the case is locked for now to protect it. "
        "Please try again in about %(minutes)s minutes."
    ),
    "rate_limited": _l(
        "There have been a lot of requests from your connection. Please wait a few minutes and "
        "try again."
    ),
    "statement_changed": _l(
        "The statement was updated while you were on the page. Please read the new statement "
        "below and confirm it again. You will need to choose your files again."
    ),
    "case_withdrawn": _l("This case was withdrawn, so nothing can be added to it."),
    "invalid_signal": _l(
        "Something in the hashes was not right, so nothing was sent. Please choose the files again."
    ),
    "low_quality": _l(
        "One of the pictures is too plain to be recognised reliably. Remove it and try again."
    ),
    "too_many_items": _l("That is too many files at once. Please send at most 200 at a time."),
    "too_many_signals": _l(
        "One of the files has more hashes than this service accepts, so nothing was sent. "
        "Please choose the files again."
    ),
    "case_full": _l(
        "This case cannot hold any more files. Please create a new case for the other files."
    ),
    "unknown_item": _l("That item is not part of this case."),
    "invalid_email": _l("That does not look like an email address. Please check it."),
    "csrf": _l(
        "This form had expired, so nothing was changed. The page has been reloaded; please "
        "try again."
    ),
    "signed_out": _l("For your safety you were signed out. Enter your case number and PIN again."),
    "busy": _l("The service is busy right now. Please try again in a minute."),
    "bad_payload": _l(
        "The hashes did not arrive complete, so nothing was sent. Please choose the files again."
    ),
    "already_created": _l(
        "This submission was already received, and its PIN can no longer be shown. If you lost "
        "the PIN, submit your files again to get a new case."
    ),
    "idempotency_conflict": _l(
        "This page was already used for a different submission. Please start again."
    ),
    "unexpected": _l("Something went wrong. Please try again."),
}

NOTICES: dict[str, str] = {
    "withdrawn_item": _l("The item was withdrawn. Platforms are being told to stop matching it."),
    "withdrawn_case": _l(
        "Your case was withdrawn. Platforms are being told to stop matching its hashes. For your "
        "safety you were signed out on every device."
    ),
    "added": _l("Your new files were added to the case."),
    "contact_set": _l("We will email you when something changes."),
    "contact_removed": _l("Your email address was deleted. We will not email you."),
    "signed_out": _l("You are signed out."),
}


def error_message(code: str, **values: Any) -> str:
    """The translated, plain-language message for an error code; a code without a message
    gets a general one and is logged (by its code only: it says nothing about the case)."""
    template = ERROR_MESSAGES.get(code)
    if template is None:
        LOGGER.warning("portal error code without a message", extra={"code": code[:64]})
        template = ERROR_MESSAGES[PortalCode.UNEXPECTED]
        values = {}
    return _(template) % values if values else _(template)


def notice_text(code: str | None) -> str | None:
    """The translated notice for `code`, or None when there is no such notice."""
    return _(NOTICES[code]) if code in NOTICES else None


def problem(exc: RedressError) -> PortalError:
    """What to tell the survivor about a refusal from the hub's services or from the portal."""
    if isinstance(exc, PortalError):
        return exc
    if exc.code == "locked":
        minutes = max(1, round((exc.retry_after or 900) / 60))
        return PortalError("locked", minutes=minutes)
    return PortalError(exc.code)


def message_for(exc: PortalError) -> str:
    """The message for a refusal, with the values it carries."""
    return error_message(exc.code, **exc.values)
