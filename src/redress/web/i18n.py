"""Languages for the portal: Babel catalogues (.po, read at start-up), negotiation from a cookie
or `Accept-Language`, and the gettext callables the templates and routes use.

The .po files under `redress/web/locale/` are the source of truth; they are compiled in memory
when the application starts, so there is no build step. `redress.web.i18n.LANGUAGES` lists the
shipped languages; a language is offered only when its catalogue exists.
"""

from __future__ import annotations

import io
from contextvars import ContextVar
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from babel import Locale
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

LOCALE_DIR = Path(__file__).parent / "locale"
DEFAULT_LANGUAGE = "en"
COOKIE = "redress_lang"


@dataclass(frozen=True, slots=True)
class Language:
    """A language the portal speaks: its code, its name in itself, and its script direction."""

    code: str
    name: str
    rtl: bool


#: Shipped languages, in the switcher's order.
LANGUAGES: tuple[Language, ...] = (
    Language("en", "English", rtl=False),
    Language("es", "Español", rtl=False),
    Language("fr", "Français", rtl=False),
    Language("ar", "العربية", rtl=True),
    Language("hi", "हिन्दी", rtl=False),
)
_BY_CODE = {language.code: language for language in LANGUAGES}
_current: ContextVar[NullTranslations] = ContextVar("redress_translations")


def language(code: str) -> Language:
    """The shipped language with this code (English when unknown)."""
    return _BY_CODE.get(code, _BY_CODE[DEFAULT_LANGUAGE])


@cache
def translations(code: str) -> NullTranslations:
    """The compiled catalogue for `code` (English, the source language, needs none)."""
    po = LOCALE_DIR / code / "LC_MESSAGES" / "messages.po"
    if code == DEFAULT_LANGUAGE or not po.is_file():
        return NullTranslations()
    with po.open("rb") as handle:
        catalog = read_po(handle, locale=code)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(fp=buffer)


def negotiate(cookie: str | None, accept_language: str | None) -> Language:
    """The language to answer in: the switcher's cookie, else the browser's preference."""
    if cookie in _BY_CODE:
        return _BY_CODE[cookie]
    preferred = []
    for part in (accept_language or "").split(","):
        tag, _, params = part.strip().partition(";")
        weight = 1.0
        if params.strip().startswith("q="):
            try:
                weight = float(params.strip()[2:])
            except ValueError:
                weight = 0.0
        if tag and weight > 0:
            preferred.append((weight, tag.replace("_", "-")))
    preferred.sort(key=lambda pair: -pair[0])  # stable: equal weights keep the browser's order
    chosen = Locale.negotiate([tag for _, tag in preferred], list(_BY_CODE), sep="-")
    if chosen is None:
        for _, tag in preferred:  # "es-MX" when only "es" is shipped
            base = tag.split("-")[0].lower()
            if base in _BY_CODE:
                return _BY_CODE[base]
        return _BY_CODE[DEFAULT_LANGUAGE]
    return _BY_CODE[str(chosen)]


def activate(code: str) -> None:
    """Use `code`'s catalogue for the rest of this request (a context variable)."""
    _current.set(translations(code))


def gettext(message: str) -> str:
    """`message` in the active language."""
    return _current.get(NullTranslations()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    """The singular or plural form for `n` in the active language."""
    return _current.get(NullTranslations()).ngettext(singular, plural, n)


def lazy(message: str) -> str:
    """Marks `message` for extraction where it is defined; translate it with `gettext` when
    shown."""
    return message
