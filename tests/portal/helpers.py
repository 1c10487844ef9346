"""Helpers the portal's browser tests share: test media, waiting for hashing, axe, keyboard."""

from __future__ import annotations

import base64
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


def leaked_runs(body: bytes, secret: bytes, run: int = RUN) -> bool:
    """Whether `body` holds any `run`-byte run of `secret`, as raw bytes, percent-decoded, or
    in base64 (any alignment).

    Any run of 2k bytes of the secret contains a k-byte block at an offset that is a multiple of
    k, so the secret's aligned k-byte blocks are looked up at every offset of the body and each
    hit is checked in full.
    """
    forms = [body, unquote_to_bytes(body.replace(b"+", b" "))]
    for form in list(forms):
        for start in range(4):
            chunk = form[start:]
            chunk = chunk[: len(chunk) - len(chunk) % 4]
            try:
                forms.append(base64.b64decode(chunk, validate=False))
            except ValueError:
                continue
    half = run // 2
    blocks: dict[bytes, list[int]] = {}
    for offset in range(0, len(secret) - half + 1, half):
        blocks.setdefault(secret[offset : offset + half], []).append(offset)
    for form in forms:
        for position in range(len(form) - half + 1):
            offsets = blocks.get(form[position : position + half])
            if not offsets:
                continue
            for offset in offsets:
                for shift in range(half + 1):
                    a, b = position - shift, offset - shift
                    window = form[a : a + run] if a >= 0 and b >= 0 else b""
                    if len(window) == run and window == secret[b : b + run]:
                        return True
    return False
