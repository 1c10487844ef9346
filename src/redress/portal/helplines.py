"""The helplines on the portal's support page: an operator-editable TOML file (docs/helplines.md).

The built-in file lists only services named in the Model National Framework and this project's
reference documents (StopNCII.org, NCMEC's Take It Down, the UK Revenge Porn Helpline), with their
websites and no phone numbers. Operators add their own with `REDRESS_HELPLINES_FILE`.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from babel import Locale, UnknownLocaleError

from redress.web.i18n import gettext as _
from redress.web.i18n import lazy as _l

BUILT_IN = Path(__file__).parent / "helplines.toml"
KINDS = ("helpline", "hashing", "under18", "legal", "other")

#: The built-in descriptions, so the catalogues translate them (operators' own are shown as
#: written, or in `description_<language>` when given).
_BUILT_IN_DESCRIPTIONS = (
    _l(
        "Creates hashes of intimate images on your device and shares them with partner "
        "platforms so they can find and remove copies. For adults."
    ),
    _l(
        "For images taken when you were under 18: a free service from the US National Center "
        "for Missing & Exploited Children that helps remove them from participating platforms."
    ),
    _l("The UK helpline for adults experiencing intimate image abuse, run by SWGfL."),
)


class HelplinesError(ValueError):
    """The helplines file is missing, not TOML, or an entry lacks what it needs."""


@dataclass(frozen=True, slots=True)
class Helpline:
    """One service: name, country (ISO 3166 code or "international"), website, and optionally a
    phone number, hours and descriptions per language."""

    name: str
    country: str
    url: str
    kind: str
    description: str
    descriptions: tuple[tuple[str, str], ...] = ()
    phone: str | None = None
    hours: str | None = None

    def description_in(self, language: str) -> str:
        """The description in `language`: the operator's own, else the catalogue's, else as is."""
        for code, text in self.descriptions:
            if code == language:
                return text
        return _(self.description)


@dataclass(frozen=True, slots=True)
class Helplines:
    """Every entry of a helplines file."""

    entries: tuple[Helpline, ...]

    def by_country(self, language: str) -> list[tuple[str, list[Helpline]]]:
        """(country name in `language`, entries) with international services first."""
        groups: dict[str, list[Helpline]] = {}
        for entry in self.entries:
            groups.setdefault(entry.country, []).append(entry)
        named = []
        for country, entries in groups.items():
            named.append((country != "international", country_name(country, language), entries))
        named.sort(key=lambda group: (group[0], group[1]))
        return [(name, entries) for _intl, name, entries in named]


def country_name(code: str, language: str) -> str:
    """A country's name in `language` (from CLDR via Babel), "International" for worldwide."""
    if code == "international":
        return _("International")
    try:
        return str(Locale.parse(language).territories.get(code, code))
    except (UnknownLocaleError, ValueError):
        return code


@cache
def load_helplines(path: str | None) -> Helplines:
    """Read and check a helplines file (the built-in one when `path` is None)."""
    source = Path(path) if path else BUILT_IN
    try:
        data = tomllib.loads(source.read_text(encoding="utf-8"))
    except OSError as exc:
        raise HelplinesError(f"cannot read the helplines file {source}: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise HelplinesError(f"{source} is not valid TOML: {exc}") from None
    entries = []
    for number, raw in enumerate(data.get("helpline", []), start=1):
        where = f"{source}, helpline {number}"
        missing = [key for key in ("name", "country", "url", "description") if not raw.get(key)]
        if missing:
            raise HelplinesError(f"{where}: missing {', '.join(missing)}")
        url = str(raw["url"])
        if not url.startswith(("https://", "http://")):
            raise HelplinesError(f"{where}: url must start with https://")
        kind = str(raw.get("kind", "helpline"))
        if kind not in KINDS:
            raise HelplinesError(f"{where}: kind must be one of {', '.join(KINDS)}")
        country = str(raw["country"])
        if country != "international" and not (len(country) == 2 and country.isupper()):
            raise HelplinesError(
                f"{where}: country must be a two-letter ISO code such as GB, or international"
            )
        descriptions = tuple(
            (key.removeprefix("description_"), str(value))
            for key, value in raw.items()
            if key.startswith("description_")
        )
        entries.append(
            Helpline(
                name=str(raw["name"]),
                country=country,
                url=url,
                kind=kind,
                description=str(raw["description"]),
                descriptions=descriptions,
                phone=str(raw["phone"]) if raw.get("phone") else None,
                hours=str(raw["hours"]) if raw.get("hours") else None,
            )
        )
    return Helplines(tuple(entries))
