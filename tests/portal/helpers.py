"""Helpers the portal's browser tests share: test media, waiting for hashing, axe, keyboard."""

from __future__ import annotations

import base64
import re
from pathlib import Path
from urllib.parse import unquote_to_bytes

from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Page

from tests.conftest import textured_image

AXE = Axe()
RUN = 64  # a request body must not contain any run of this many bytes of a file


def distinctive_photos(folder: Path, count: int = 2) -> list[Path]:
    """JPEG photos generated for the test (textured, PDQ quality 100), each unlike any other."""
    paths = []
    for index in range(count):
        path = folder / f"holiday-{index}.jpg"
        textured_image(900 + 37 * index, 700, seed=100 + index).save(path, quality=92)
        paths.append(path)
    return paths


def choose_files(page: Page, files: list[Path]) -> None:
    """Choose files in the picker once the page's script is running."""
    page.wait_for_function("() => window.redressPortal !== undefined")
    page.set_input_files("#files", [str(f) for f in files])


def wait_hashed(page: Page, count: int) -> None:
    """Wait until `count` files have finished hashing (ready or failed), in the page's state."""
    try:
        page.wait_for_function(
            "n => window.redressPortal && window.redressPortal.entries.length === n && "
            "window.redressPortal.entries.every(e => e.state === 'ready' || e.state === 'failed')",
            arg=count,
            timeout=60_000,
        )
    except PlaywrightError as exc:
        states = page.evaluate(
            "() => window.redressPortal && window.redressPortal.entries.map("
            "e => e.file.name + ': ' + e.state + ' ' + e.stateText.textContent)"
        )
        raise AssertionError(f"hashing did not finish: {states}") from exc


def axe_violations(page: Page) -> list[str]:
    """axe-core's WCAG 2.x A/AA violations on the page as it is now, one line each."""
    results = AXE.run(
        page,
        options={
            "runOnly": {
                "type": "tag",
                "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"],
            }
        },
    )
    return [
        f"{v['id']}: {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
        for v in results.response["violations"]
    ]


def tab_to(page: Page, selector: str, limit: int = 80, key: str = "Tab") -> None:
    """Press Tab until the element matching `selector` has focus (fails if it never does)."""
    for _ in range(limit):
        if page.evaluate(
            "s => document.activeElement && document.activeElement.matches(s)", selector
        ):
            return
        page.keyboard.press(key)
    raise AssertionError(f"{selector} cannot be reached with the keyboard")


def _holds_window(text: bytes, encoded: bytes, width: int) -> bool:
    """Whether `text` contains any `width`-byte window of `encoded`.

    Every window of 2h bytes of `encoded` contains an h-byte block starting at a multiple of h,
    so those blocks are looked up at every position of `text` and each hit is checked in full.
    """
    half = width // 2
    blocks: dict[bytes, list[int]] = {}
    for offset in range(0, len(encoded) - half + 1, half):
        blocks.setdefault(encoded[offset : offset + half], []).append(offset)
    for position in range(len(text) - half + 1):
        for offset in blocks.get(text[position : position + half], ()):
            for shift in range(half + 1):
                a, b = position - shift, offset - shift
                if a < 0 or b < 0:
                    break
                window = encoded[b : b + width]
                if len(window) == width and text[a : a + width] == window:
                    return True
    return False


def leak_encodings(secret: bytes, run: int = RUN) -> dict[str, tuple[bytes, int]]:
    """The forms a file's bytes can travel in, each with the window width that `run` bytes of
    the file take in it: raw, hex (lower and upper), base64 and URL-safe base64 at each of the
    three alignments (a run's whole 3-byte groups: 4 characters each, at least (run - 2) // 3
    of them)."""
    b64 = 4 * ((run - 2) // 3)
    forms = {
        "raw": (secret, run),
        "hex": (secret.hex().encode(), 2 * run),
        "HEX": (secret.hex().upper().encode(), 2 * run),
    }
    for align in range(3):
        forms[f"base64+{align}"] = (base64.b64encode(secret[align:]).rstrip(b"="), b64)
        forms[f"urlsafe+{align}"] = (base64.urlsafe_b64encode(secret[align:]).rstrip(b"="), b64)
    return forms


def leaked_runs(body: bytes, secret: bytes, run: int = RUN) -> str | None:
    """Which encoding of a `run`-byte window of `secret` `body` carries (None if none).

    The body is read as sent, percent-decoded (with and without `+` as space: query strings,
    forms) and with JSON escapes and whitespace removed (base64 wrapped in lines or inside a
    JSON string); each reading is searched for every window of every encoding of the secret.
    """
    unescaped = re.sub(rb"\\[nrt/]|\s", b"", body)
    readings = {
        body,
        unquote_to_bytes(body),
        unquote_to_bytes(body.replace(b"+", b" ")),
        unescaped,
        unquote_to_bytes(unescaped),
    }
    for name, (encoded, width) in leak_encodings(secret, run).items():
        if any(_holds_window(text, encoded, width) for text in readings):
            return name
    return None
