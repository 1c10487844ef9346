"""The browser's hashes against `redress hash`: every reference photo end to end (browser
decoding, EXIF orientation), the bank variants, and the reference videos (vPDQ at one frame per
second, MD5 and SHA-256 of the bytes)."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page

from redress.hashing import HashOptions, hash_file
from redress.hashing.signal_types import VpdqSignal
from redress.hashing.variants import BANK_VARIANTS
from tests.hub.conftest import RunningHub
from tests.portal.conftest import new_context

pytestmark = pytest.mark.browser


def _browser_hashes(page: Page, portal: RunningHub, files: list[Path]) -> list[dict[str, Any]]:
    page.goto(portal.url + "/submit")
    page.wait_for_function("() => window.redressPortal !== undefined")
    page.set_input_files("#files", [str(f) for f in files])
    page.wait_for_function(
        "n => window.redressPortal.entries.length === n && "
        "window.redressPortal.entries.every(e => e.state === 'ready' || e.state === 'failed')",
        arg=len(files),
        timeout=300_000,
    )
    result: list[dict[str, Any]] = page.evaluate(
        "() => window.redressPortal.entries.map(e => ({state: e.state, result: e.result}))"
    )
    return result


def _bits(a: str, b: str) -> int:
    return bin(int(a, 16) ^ int(b, 16)).count("1")


def test_photos_match_the_cli_within_10_bits(
    browser: Browser, portal: RunningHub, reference: Path
) -> None:
    photos = sorted(reference.glob("pdq/bridge-mods/*.jpg")) + sorted(
        reference.glob("pdq/reg-test-input/**/*.jpg")
    )
    assert len(photos) >= 20
    context = new_context(browser)
    hashed = _browser_hashes(context.new_page(), portal, photos)
    context.close()
    worst_original, worst_variant = 0, 0
    options = HashOptions(variants=True)
    for photo, entry in zip(photos, hashed, strict=True):
        cli = {s.variant: s for s in hash_file(photo, options).signals}
        if cli[None].quality is not None and cli[None].quality < 50:
            assert entry["state"] == "failed", photo.name  # too flat: refused in both
            continue
        assert entry["state"] == "ready", photo.name
        signals = {s.get("variant"): s for s in entry["result"]["signals"]}
        original = _bits(signals[None]["value"], cli[None].value)
        assert original <= 10, f"{photo.name}: {original} bits from redress hash"
        worst_original = max(worst_original, original)
        for name, signal in signals.items():
            if name is None or name not in cli:
                continue
            bits = _bits(signal["value"], cli[name].value)
            assert bits <= 16, f"{photo.name} {name}: {bits} bits from redress hash"
            worst_variant = max(worst_variant, bits)
        assert set(signals) - {None} <= {v.name for v in BANK_VARIANTS}
    print(f"worst original {worst_original} bits, worst variant {worst_variant} bits")


def test_videos_match_the_cli(browser: Browser, portal: RunningHub, reference: Path) -> None:
    videos = sorted((reference / "vpdq" / "videos").glob("*.mp4"))
    context = new_context(browser)
    hashed = _browser_hashes(context.new_page(), portal, videos)
    context.close()
    for video, entry in zip(videos, hashed, strict=True):
        assert entry["state"] == "ready", video.name
        signals = {s["type"]: s["value"] for s in entry["result"]["signals"]}
        data = video.read_bytes()
        assert signals["md5"] == hashlib.md5(data).hexdigest()
        assert signals["sha256"] == hashlib.sha256(data).hexdigest()
        cli = next(s for s in hash_file(video).signals if s.type == "vpdq")
        ours = VpdqSignal().parse(signals["vpdq"])
        theirs = VpdqSignal().parse(cli.value)
        assert abs(len(ours) - len(theirs)) <= 1, video.name
        assert VpdqSignal().matches(signals["vpdq"], cli.value), video.name
