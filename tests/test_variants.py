"""The variant set (specification version 1): pinned hashes, border trimming, and the goal's
floors on the reference photos, as a test that can fail."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image, ImageOps

from redress.hashing.pdq import DIHEDRAL_VARIANTS
from redress.hashing.variants import (
    BANK_VARIANTS,
    SPEC_VERSION,
    bank_variants,
    query_variants,
    trim_uniform_borders,
)
from redress.robustness import EDITS, METHODS, load_corpus
from redress.robustness.harness import run_harness
from tests.conftest import textured_image

# Specification version 1 on a generated picture. If this changes, the browser portal and every
# other implementation must change too: bump SPEC_VERSION and docs/variants.md.
PINNED = [
    (None, "ba954fb7a69570c0ba954435be95710afa95503dea95d03f056aadc3156a37c0"),
    ("crop025", "de952fbda69550393a95043faa95003f8a95603faa95003f556aefc05d6a7fc0"),
    ("crop050", "0e9d0835a61fd2bf381d0c37289f283fa29d20b52297aab5f7e05d4a7d60774a"),
    ("crop075", "2c190835f71fd2b5a91d3cb50e9f22b5821faab5001faab5ffe0554a3de0554a"),
    ("crop100", "1c2028b5d37ec2b529ed5cb52e90aab586a58ab5f2e5aab5ffe0554a381e514a"),
    ("crop125", "44a129f0c3a5ceb03de154b0be259ff0aba5aef0fae1fab0afa5440f515a014f"),
    ("top85", "96c1f01594c18e95e7d5f29513c0ee951bc0fa95ffc0fa95503f056a0c3f156a"),
    ("bottom85", "6035056a8ebf4d6ae43f516aba3f416a243f156aea3f156a07c0ea951fc0ba95"),
    ("rotate-6", "c126d4f6f1e680fefeea0046aa2ba041556effc1aa97543d4042fd3ffa62802b"),
    ("rotate-4", "bdeac0ceedeb20ce7e6b554a2a2b0141555effc1aa97503f006af83fe86a002b"),
    ("rotate-2", "007f5fdf603f77d7021fdfd70a9f55454010ffc5ea95503f006aa83f056a002b"),
    ("rotate+2", "5faa0aca57aaa2c25f8aa2c25f9a55405785aac07f85552e006affc4556affd4"),
    ("rotate+4", "f9df54cbad9e54cbafbe00c355de5454058700c05781552a007b2bdae86affd4"),
    ("rotate+6", "945b84a3845bd4ababdf4043fddef4d4018b00d45583bf2aa87f02c2fa627fd4"),
]


def test_variant_specification_is_pinned() -> None:
    assert SPEC_VERSION == 1
    picture = textured_image(480, 360, seed=11)
    hashes = bank_variants(picture)
    assert [(h.variant, h.value) for h in hashes] == PINNED
    assert [h.variant for h in hashes[1:]] == [spec.name for spec in BANK_VARIANTS]
    again = bank_variants(textured_image(480, 360, seed=11))
    assert [h.value for h in again] == [h.value for h in hashes]


@pytest.mark.parametrize("fill", ["white", "black", (128, 128, 128)])
def test_uniform_borders_are_trimmed(fill: object) -> None:
    picture = textured_image(400, 300, seed=2)
    padded = ImageOps.expand(picture, border=(40, 60), fill=fill)  # type: ignore[arg-type]
    trimmed = trim_uniform_borders(padded)
    assert trimmed is not None
    assert trimmed.size == picture.size


def test_pictures_without_borders_or_all_border_are_left_alone() -> None:
    assert trim_uniform_borders(textured_image(400, 300, seed=2)) is None
    assert trim_uniform_borders(Image.new("RGB", (300, 200), "white")) is None


def test_query_views_name_what_they_are() -> None:
    padded = ImageOps.expand(textured_image(400, 300, seed=4), border=50, fill="white")
    names = [h.variant for h in query_variants(padded, None)]
    assert names[:8] == [None, *DIHEDRAL_VARIANTS[1:]]
    assert names[8:16] == ["trimmed"] + [f"trimmed+{n}" for n in names[1:8]]
    assert names[16:] == ["top85", "bottom85"]
    plain = [h.variant for h in query_variants(textured_image(400, 300, seed=4), None)]
    assert "trimmed" not in plain


def test_hash_variants_cli_marks_each_variant(tmp_path: Path) -> None:
    textured_image(480, 360, seed=11).save(tmp_path / "p.png")
    run = subprocess.run(
        [sys.executable, "-m", "redress", "hash", "--variants", str(tmp_path / "p.png")],
        capture_output=True,
        text=True,
        check=True,
    )
    records = [json.loads(line) for line in run.stdout.splitlines()]
    assert [(r["variant"], r["value"]) for r in records] == PINNED


# The goal's floors (issue: match quality), per edit, on the reference photos.
FLOORS = {
    "crop5": 0.9,
    "crop10": 0.9,
    "pad10white": 0.95,
    "pad20black": 0.95,
    "rotate4": 0.8,
    "banner": 0.9,
    "flip": 1.0,
    "rotate90": 1.0,
}


def test_goal_floors_hold_on_the_reference_photos(reference: Path) -> None:
    corpus = load_corpus(reference, include_skimage=False)
    assert len(corpus) >= 8
    haystack_file = reference / "pdq" / "reg-test-input" / "haystack.txt"
    haystack = [line.strip() for line in haystack_file.read_text().splitlines() if line.strip()]
    plain, ours = run_harness(
        corpus,
        [METHODS["plain"], METHODS["redress"]],
        edits=list(EDITS.values()),
        haystack=haystack,
    )
    assert ours.overall_recall >= 0.95, ours.recall
    for edit, floor in FLOORS.items():
        assert ours.recall[edit] >= floor, (edit, ours.recall[edit])
    for edit, recall in plain.recall.items():
        if edit not in FLOORS:
            assert ours.recall[edit] >= recall, (edit, recall, ours.recall[edit])
    assert ours.false_matches == 0
    assert ours.haystack_false_matches == 0
    assert ours.margin["min"] > 31
