"""vPDQ variants: letterbox/pillarbox bars and time offsets must not stop a family matching,
and nothing matches across families."""

from __future__ import annotations

from pathlib import Path

import pytest

from redress.hashing import HashOptions, hash_file, hash_video_file
from redress.matching.hashlist import HashListEntry
from redress.matching.matcher import HashListMatcher

FAMILIES = {
    "chair-19-sd-bar": "chair",
    "chair-22-sd-grey-bar": "chair",
    "chair-orig-22-sd-bar": "chair",
    "pattern-hd-no-bar": "pattern",
    "pattern-sd-grey-bar": "pattern",
    "doorknob-hd-no-bar": "doorknob",
    "test-padded-dimensions": "padded",
}


@pytest.fixture(scope="module")
def matches(reference: Path) -> dict[str, set[str]]:
    """For each clip used as a query, the clips of a bank (built with --variants) it matches."""
    videos = reference / "vpdq" / "videos"
    bank = []
    for index, name in enumerate(FAMILIES):
        result = hash_file(videos / f"{name}.mp4", HashOptions(types=("vpdq",), variants=True))
        assert result.ok, result.error
        bank.extend(HashListEntry("vpdq", s.value, {"clip": name}, index) for s in result.signals)
    matcher = HashListMatcher(bank)
    found = {}
    for name in FAMILIES:
        query = hash_file(videos / f"{name}.mp4", HashOptions(types=("vpdq",), query_variants=True))
        found[name] = {m.entry.record["clip"] for m in matcher.match(query.signals)}
    return found


def test_every_clip_matches_its_whole_family_and_nothing_else(
    matches: dict[str, set[str]],
) -> None:
    for query, matched in matches.items():
        family = {clip for clip, fam in FAMILIES.items() if fam == FAMILIES[query]}
        assert matched == family, (query, matched)


def test_bars_are_found_and_trimmed(reference: Path) -> None:
    videos = reference / "vpdq" / "videos"
    barred = hash_video_file(videos / "pattern-sd-grey-bar.mp4", trim_borders=True)
    assert "trimmed" in barred.variants
    assert len(barred.variants["trimmed"]) == len(barred.frames)
    clean = hash_video_file(videos / "pattern-hd-no-bar.mp4", trim_borders=True)
    assert "trimmed" not in clean.variants


def test_phases_sample_the_same_rate_shifted(reference: Path) -> None:
    video = hash_video_file(reference / "vpdq" / "videos" / "doorknob-hd-no-bar.mp4", phases=3)
    assert [f.frame_number for f in video.frames] == [0, 30, 60, 90]
    assert [f.frame_number for f in video.variants["phase1/3"]] == [10, 40, 70, 100]
    assert [f.frame_number for f in video.variants["phase2/3"]] == [20, 50, 80, 110]
