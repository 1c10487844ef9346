"""vPDQ against Meta's reference output for every reference clip."""

from __future__ import annotations

import statistics
from pathlib import Path

import pytest

from redress.hashing import VpdqSignal, hash_video_file
from redress.hashing.signal_types import hamming_distance

# The README's figures (measured by bench/reference_agreement.py), per clip, with --every-frame:
# the median and the worst distance of a frame's PDQ from vpdq's reference output.
MEDIAN_BITS = 1
WORST_BITS = 4

CLIPS = [
    "chair-19-sd-bar",
    "chair-22-sd-grey-bar",
    "chair-orig-22-sd-bar",
    "doorknob-hd-no-bar",
    "pattern-hd-no-bar",
    "pattern-sd-grey-bar",
    "test-padded-dimensions",
]


def _reference_frames(reference: Path, name: str) -> list:  # type: ignore[type-arg]
    return VpdqSignal().parse((reference / "vpdq" / "hashes" / f"{name}.txt").read_text())


@pytest.mark.parametrize("name", CLIPS)
def test_every_frame_matches_the_reference(reference: Path, name: str) -> None:
    expected = _reference_frames(reference, name)
    ours = hash_video_file(reference / "vpdq" / "videos" / f"{name}.mp4", every_frame=True)
    assert len(ours.frames) == len(expected)
    assert [f.frame_number for f in ours.frames] == [f.frame_number for f in expected]
    assert [f"{f.timestamp:.3f}" for f in ours.frames] == [f"{f.timestamp:.3f}" for f in expected]
    distances = [hamming_distance(a.pdq, b.pdq) for a, b in zip(ours.frames, expected, strict=True)]
    assert statistics.median(distances) <= MEDIAN_BITS
    assert max(distances) <= WORST_BITS
    assert max(abs(a.quality - b.quality) for a, b in zip(ours.frames, expected, strict=True)) <= 2


@pytest.mark.parametrize("name", ["chair-19-sd-bar", "doorknob-hd-no-bar", "pattern-hd-no-bar"])
def test_one_frame_per_second_samples_the_reference_frames(reference: Path, name: str) -> None:
    expected = {f.frame_number: f for f in _reference_frames(reference, name)}
    video = hash_video_file(reference / "vpdq" / "videos" / f"{name}.mp4")
    assert video.frame_rate == pytest.approx(30, abs=0.1)
    assert len(video.frames) == pytest.approx(video.duration, abs=1.5)
    gaps = [b.timestamp - a.timestamp for a, b in zip(video.frames, video.frames[1:], strict=False)]
    assert all(0.5 <= gap <= 1.5 for gap in gaps), gaps
    for frame in video.frames:
        same = expected[frame.frame_number]
        assert frame.timestamp == pytest.approx(same.timestamp, abs=0.001)
        assert hamming_distance(frame.pdq, same.pdq) <= WORST_BITS


def test_sampled_hash_matches_the_reference_sampled_alike(reference: Path) -> None:
    # vPDQ compares videos hashed at the same rate: take every 30th reference frame (1 per s).
    vpdq = VpdqSignal()
    video = hash_video_file(reference / "vpdq" / "videos" / "pattern-sd-grey-bar.mp4")
    ours = vpdq.format(video.frames)
    for name, should_match in [("pattern-sd-grey-bar", True), ("doorknob-hd-no-bar", False)]:
        sampled = [f for f in _reference_frames(reference, name) if f.frame_number % 30 == 0]
        assert vpdq.matches(ours, vpdq.format(sampled)) is should_match, name
