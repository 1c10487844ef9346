"""What a signal (`{"type", "value"}`) may hold, written as JSON Schema for the OpenAPI documents.

The hashing core (`redress.hashing.signal_types`) stays the one validator at run time, with its
own error codes and messages; these patterns describe exactly the values it accepts, so that a
request valid by the published schema is accepted and an invalid one refused. They read the
same in Python's `re` and in ECMA-262 (JSON Schema's dialect): whitespace is spelt out as ASCII
(`\\s` differs between the two), and `$` may only meet a final newline the core strips anyway.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

ALL_TYPES = ("pdq", "vpdq", "md5", "sha256")
#: Surrounding whitespace the core strips, as a class both regex dialects agree on.
SPACE = r"[ \t\n\r\f\v]*"
_HEX_LENGTH = {"pdq": 64, "md5": 32, "sha256": 64}
_FRAME_PREFIX = r"[0-9]{1,9},"
_FRAME_SUFFIX = r",[0-9a-fA-F]{64},[0-9]{1,9}(\.[0-9]{1,3})?"
_ANY_FRAME = _FRAME_PREFIX + r"(100|[1-9]?[0-9])" + _FRAME_SUFFIX
_GOOD_FRAME = _FRAME_PREFIX + r"(100|[5-9][0-9])" + _FRAME_SUFFIX
#: vPDQ as `redress hash` writes it: one frame a line, at least one of quality 50 or more.
VPDQ_PATTERN = rf"^({_ANY_FRAME}\n)*{_GOOD_FRAME}(\n{_ANY_FRAME})*$"


def type_pattern(name: str) -> str:
    """The type's name in any letter case, with surrounding whitespace (the core strips it)."""
    letters = "".join(f"[{c.lower()}{c.upper()}]" if c.isalpha() else c for c in name)
    return rf"^{SPACE}{letters}{SPACE}$"


def value_pattern(name: str) -> str:
    """The values of a signal type the core accepts."""
    if name == "vpdq":
        return VPDQ_PATTERN
    return rf"^{SPACE}[0-9a-fA-F]{{{_HEX_LENGTH[name]}}}{SPACE}$"


def signal_variants(
    types: Sequence[str] = ALL_TYPES, *, pdq_quality: bool = False
) -> list[dict[str, Any]]:
    """One JSON Schema branch per signal type: its name and its value's form."""
    variants = []
    for name in types:
        properties: dict[str, Any] = {
            "type": {"type": "string", "pattern": type_pattern(name)},
            "value": {"type": "string", "pattern": value_pattern(name)},
        }
        if pdq_quality and name == "pdq":
            properties["quality"] = {
                "anyOf": [{"type": "integer", "minimum": 50, "maximum": 100}, {"type": "null"}]
            }
        variants.append({"title": name, "properties": properties})
    return variants


def signal_schema(
    types: Sequence[str] = ALL_TYPES, *, pdq_quality: bool = False
) -> Callable[[dict[str, Any]], None]:
    """A Pydantic `json_schema_extra` that adds the per-type forms to a signal model's schema."""

    def extend(schema: dict[str, Any]) -> None:
        schema["anyOf"] = signal_variants(types, pdq_quality=pdq_quality)
        known = ", ".join(types)
        schema["description"] = (
            f"{schema.get('description', '')} Known types: {known}. PDQ and SHA-256 are 64 "
            "hexadecimal characters, MD5 32; vPDQ is one `frame,quality,pdq_hex,timestamp` line "
            "per frame."
        ).strip()
        if pdq_quality:
            schema["description"] += " A PDQ hash's quality must be 50 or more."

    return extend
