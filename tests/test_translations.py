"""The portal's catalogues: every language complete, placeholders intact, and the template
(messages.pot) in step with the strings in the code and templates."""

from __future__ import annotations

import io

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from redress.web.i18n import LANGUAGES, LOCALE_DIR, negotiate, translations
from tests.conftest import REPO

TRANSLATED = [language.code for language in LANGUAGES if language.code != "en"]


def _extracted() -> set[str]:
    method_map = [("src/redress/**.py", "python"), ("src/redress/**/templates/**.html", "jinja2")]
    options = {"src/redress/**/templates/**.html": {"extensions": "jinja2.ext.i18n"}}
    keywords = {"_": None, "gettext": None, "ngettext": (1, 2), "_l": None, "_translatable": None}
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(REPO), method_map, options, keywords=keywords
    ):
        found.add(message if isinstance(message, str) else message[0])
    return found


def test_template_is_current() -> None:
    with (LOCALE_DIR / "messages.pot").open("rb") as handle:
        template = {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(handle) if m.id}
    extracted = _extracted()
    assert extracted - template == set(), "run: make translations (strings missing from .pot)"
    assert template - extracted == set(), "run: make translations (stale strings in .pot)"


@pytest.mark.parametrize("code", TRANSLATED)
def test_catalogue_is_complete(code: str) -> None:
    with (LOCALE_DIR / "messages.pot").open("rb") as handle:
        template = {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(handle) if m.id}
    with (LOCALE_DIR / code / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        catalog = read_po(handle, locale=code)
    messages = {m.id if isinstance(m.id, str) else m.id[0]: m for m in catalog if m.id}
    assert set(messages) == template
    for key, message in messages.items():
        assert not message.fuzzy, f"{code}: fuzzy {key!r}"
        strings = [message.string] if isinstance(message.string, str) else list(message.string)
        assert all(s.strip() for s in strings), f"{code}: untranslated {key!r}"
    assert list(catalog.check()) == []


def test_translations_are_used_and_negotiated() -> None:
    assert translations("es").gettext("Quick exit") == "Salida rápida"
    assert translations("ar").gettext("Quick exit") == "خروج سريع"
    assert negotiate(None, "fr-CA,fr;q=0.9").code == "fr"
    assert negotiate(None, "de-DE").code == "en"
    assert negotiate("hi", "es").code == "hi"
    assert negotiate(None, io.StringIO().getvalue()).code == "en"
