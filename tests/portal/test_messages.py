"""Every error code the portal can receive has a message in every language: the codes are read
from the code (the refusals the portal's modules raise and those raised by the hub modules they
call, as string literals or StrEnum members), not from a list kept by hand. An unknown code shows
a translated "something went wrong" (never "busy") and is logged by its code."""

from __future__ import annotations

import ast
import importlib
import inspect
import logging
import pkgutil
import re
from enum import StrEnum
from types import ModuleType

import pytest

import redress.portal
from redress.core.errors import RedressError
from redress.hub.errors import HubError
from redress.portal.messages import (
    ERROR_MESSAGES,
    NOTICES,
    SURVIVOR_HASHING_CODES,
    PortalCode,
    PortalError,
    error_message,
    problem,
)
from redress.web.i18n import LANGUAGES, activate, translations

CODE = re.compile(r"[a-z][a-z0-9_]*")
#: Modules that only define refusals (helpers like `locked()`), wherever the services call them.
ERROR_MODULES = ("redress.hub.errors", "redress.hub.cases.errors")


def _portal_modules() -> list[ModuleType]:
    return [
        importlib.import_module(info.name)
        for info in pkgutil.walk_packages(redress.portal.__path__, "redress.portal.")
    ]


def _imported_modules(module: ModuleType) -> set[str]:
    """The redress modules `module` imports (from its source), outside the portal."""
    found = set()
    for node in ast.walk(ast.parse(inspect.getsource(module))):
        names: list[str] = []
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("redress"):
            names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names if alias.name.startswith("redress")]
        for name in names:
            try:
                importlib.import_module(name)
            except ImportError:
                continue  # a name imported from a module, not a module
            if not name.startswith("redress.portal"):
                found.add(name)
    return found


def _codes_raised(module: ModuleType) -> set[str]:
    """The codes of the errors `module` constructs: `SomeError(..., "code", ...)` literals among
    the first two arguments, and StrEnum members (`CaseCode.LOCKED`) anywhere in the call."""
    codes = set()
    for node in ast.walk(ast.parse(inspect.getsource(module))):
        if not isinstance(node, ast.Call):
            continue
        callee = node.func.attr if isinstance(node.func, ast.Attribute) else None
        callee = node.func.id if isinstance(node.func, ast.Name) else callee
        if callee is None or not callee.endswith("Error"):
            continue
        for arg in [*node.args[:2], *(k.value for k in node.keywords if k.arg == "code")]:
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                if CODE.fullmatch(arg.value):
                    codes.add(arg.value)
            elif isinstance(arg, ast.Attribute) and isinstance(arg.value, ast.Name):
                enum = getattr(module, arg.value.id, None)
                if isinstance(enum, type) and issubclass(enum, StrEnum):
                    codes.add(str(enum[arg.attr]))
    return codes


def receivable_codes() -> set[str]:
    """Every code a portal page can be asked to show."""
    portal = _portal_modules()
    services = {name for module in portal for name in _imported_modules(module)}
    modules = portal + [importlib.import_module(n) for n in sorted(services) + list(ERROR_MODULES)]
    raised = {code for module in modules for code in _codes_raised(module)}
    return raised | set(PortalCode) | set(SURVIVOR_HASHING_CODES)


def test_the_scan_finds_the_codes_it_must() -> None:
    codes = receivable_codes()
    # One of each source: the portal's own, the case service, validation, rate limits, helpers.
    assert {"csrf", "unknown_item", "too_many_items", "rate_limited", "locked"} <= codes
    assert {"wrong_case_or_pin", "case_withdrawn", "invalid_signal"} <= codes


def test_every_code_has_a_message_in_every_language() -> None:
    codes = receivable_codes()
    missing = codes - set(ERROR_MESSAGES)
    assert missing == set(), f"codes without a message in redress.portal.messages: {missing}"
    for language in LANGUAGES:
        if language.code == "en":
            continue
        catalogue = translations(language.code)
        for code in codes:
            english = ERROR_MESSAGES[code]
            assert catalogue.gettext(english) != english, f"{language.code}: {code} untranslated"


def test_notices_are_translated() -> None:
    for language in LANGUAGES[1:]:
        for text in NOTICES.values():
            assert translations(language.code).gettext(text) != text


@pytest.mark.parametrize("language", [language.code for language in LANGUAGES])
def test_an_unknown_code_is_something_went_wrong_and_is_logged(
    language: str, caplog: pytest.LogCaptureFixture
) -> None:
    activate(language)
    try:
        with caplog.at_level(logging.WARNING, logger="redress"):
            shown = error_message("no_such_code", minutes=3)
        assert shown == error_message(PortalCode.UNEXPECTED)
        assert shown != error_message(PortalCode.BUSY)
        assert [r.code for r in caplog.records] == ["no_such_code"]  # type: ignore[attr-defined]
    finally:
        activate("en")


def test_refusals_keep_their_code() -> None:
    assert problem(HubError(409, "some_new_code", "detail")).code == "some_new_code"
    assert problem(HubError(429, "locked", "wait", retry_after=600)).values == {"minutes": 10}
    refusal = PortalError(PortalCode.CSRF)
    assert isinstance(refusal, RedressError) and refusal.status == 403
    assert problem(refusal) is refusal
    assert PortalError(PortalCode.BAD_PAYLOAD).status == 422
    assert PortalError(PortalCode.INVALID_EMAIL).status == 400
