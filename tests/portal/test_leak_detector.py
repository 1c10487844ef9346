"""The privacy proof's detector (`leaked_runs`) must find a file's bytes in every form a page
could send them in, and nothing in bodies that do not carry them."""

from __future__ import annotations

import base64
import json
from urllib.parse import quote_from_bytes, quote_plus, urlencode

import numpy as np
import pytest

from tests.portal.helpers import RUN, leak_encodings, leaked_runs

SECRET = np.random.default_rng(7).bytes(20_000)
OTHER = np.random.default_rng(8).bytes(20_000)


def planted(kind: str, chunk: bytes) -> bytes:
    """`chunk` in the form `kind`, inside a body with other fields around it."""
    forms = {
        "raw": chunk,
        "hex": chunk.hex().encode(),
        "HEX": chunk.hex().upper().encode(),
        "base64": base64.b64encode(chunk),
        "urlsafe": base64.urlsafe_b64encode(chunk).rstrip(b"="),
        "percent": quote_from_bytes(chunk).encode(),
        "form": urlencode({"file": chunk}).encode(),
        "plus": quote_plus(chunk).encode(),
    }
    return b'{"a": 1, "x": "' + forms[kind] + b'", "z": [2]}'


@pytest.mark.parametrize("kind", ["raw", "hex", "HEX", "percent", "form", "plus"])
@pytest.mark.parametrize("offset", [0, 1, 2, 5_001, len(SECRET) - RUN])
def test_a_run_of_the_file_is_found_at_any_offset(kind: str, offset: int) -> None:
    chunk = SECRET[offset : offset + RUN]
    assert leaked_runs(planted(kind, chunk), SECRET) is not None
    assert leaked_runs(planted(kind, chunk[:-1]), SECRET) is None  # one byte short of a run
    assert leaked_runs(planted(kind, OTHER[offset : offset + 4 * RUN]), SECRET) is None


@pytest.mark.parametrize("kind", ["base64", "urlsafe"])
@pytest.mark.parametrize("offset", [0, 1, 2, 3, 5_001, 5_002, 5_003])
def test_base64_of_a_run_is_found_at_each_alignment(kind: str, offset: int) -> None:
    found = leaked_runs(planted(kind, SECRET[offset : offset + RUN]), SECRET)
    # (where the text has no + or /, both alphabets read the same and base64 is named)
    assert found in {f"{kind}+{offset % 3}", f"base64+{offset % 3}"}
    # A run's base64 text is found even when the encoder started mid-group elsewhere.
    prefixed = planted(kind, b"zz" + SECRET[offset : offset + RUN])
    assert leaked_runs(prefixed, SECRET) is not None
    assert leaked_runs(planted(kind, SECRET[offset : offset + 40]), SECRET) is None
    assert leaked_runs(planted(kind, OTHER[offset : offset + 4 * RUN]), SECRET) is None


def test_url_safe_base64_is_found_where_the_alphabets_differ() -> None:
    for offset in range(3000):
        text = base64.urlsafe_b64encode(SECRET[offset : offset + 3 * RUN])
        if all(set(text[i : i + 80]) & set(b"-_") for i in range(len(text) - 79)):
            break
    else:
        raise AssertionError("no run whose URL-safe base64 differs everywhere")
    assert leaked_runs(b"data=" + text, SECRET) == f"urlsafe+{offset % 3}"


def test_a_whole_file_as_base64_in_a_json_body_is_found() -> None:
    body = json.dumps({"name": "holiday.jpg", "data": base64.b64encode(SECRET).decode()})
    assert leaked_runs(body.encode(), SECRET) == "base64+0"
    # ... also wrapped in lines, with JSON's escaped newlines and slashes.
    wrapped = base64.encodebytes(SECRET).decode().replace("/", "\\/")
    assert leaked_runs(json.dumps({"data": wrapped}).encode(), SECRET) is not None
    assert leaked_runs(json.dumps({"data": SECRET.hex()}).encode(), SECRET) == "hex"


def test_hashes_and_ordinary_bodies_are_not_leaks() -> None:
    body = json.dumps(
        {
            "items": [{"signals": [{"type": "pdq", "value": "ab" * 32, "quality": 90}]}],
            "other_file": base64.b64encode(OTHER).decode(),
            "other_hex": OTHER.hex(),
        }
    )
    assert leaked_runs(body.encode(), SECRET) is None


def test_every_encoding_is_checked() -> None:
    assert sorted(leak_encodings(SECRET)) == sorted(
        ["raw", "hex", "HEX"] + [f"{k}+{a}" for k in ("base64", "urlsafe") for a in range(3)]
    )
