"""`MultiIndex`: one index per signal type present, addressed by (signal type, value)."""

from __future__ import annotations

import numpy as np
import pytest

from redress.hashing.errors import InvalidSignalError
from redress.hashing.signal_types import VpdqFrame, VpdqSignal
from redress.matching import ExactIndex, MultiIndex, PdqIndex, VpdqHit, VpdqIndex


def flipped(value: str, bits: int) -> str:
    """`value` (hex) with its first `bits` bits flipped."""
    number = int(value, 16) ^ (((1 << bits) - 1) << (256 - bits))
    return f"{number:064x}"


def test_types_are_indexed_apart_and_hits_carry_their_type():
    rng = np.random.default_rng(3)
    pdq, sha = rng.bytes(32).hex(), rng.bytes(32).hex()
    index = MultiIndex()
    assert len(index) == 0 and index.types == set()
    assert list(index.add("pdq", [pdq])) == [0]
    assert list(index.add("sha256", [sha, pdq])) == [0, 1]  # same text, another type
    assert index.types == {"pdq", "sha256"} and len(index) == 3
    assert index.counts() == {"pdq": 1, "sha256": 2}
    (hit,) = index.query("pdq", flipped(pdq, 4))
    assert (hit.type, hit.id, hit.distance) == ("pdq", 0, 4)
    assert [(h.type, h.id, h.distance) for h in index.query("sha256", pdq)] == [("sha256", 1, 0)]
    assert index.query("sha256", flipped(sha, 1)) == []  # a digest matches only itself
    assert index.query("md5", "ab" * 16) == []  # a known type with nothing indexed yet


def test_the_threshold_applies_to_the_queried_type():
    pdq = "0" * 64
    index = MultiIndex()
    index.add("pdq", [pdq])
    far = flipped(pdq, 40)
    assert index.query("pdq", far) == []  # 40 bits: beyond PDQ's default 31
    assert [h.distance for h in index.query("pdq", far, 40)] == [40]


def test_remove_by_type():
    index = MultiIndex()
    index.add("md5", ["ab" * 16, "cd" * 16])
    assert index.remove("md5", [0, 0]) == 1
    assert index.remove("sha256", [0]) == 0  # nothing of that type: nothing removed
    assert index.query("md5", "ab" * 16) == []
    assert index.types == {"md5"} and len(index) == 1
    index.remove("md5", [1])
    assert index.types == set()


def test_unknown_types_are_refused():
    index = MultiIndex()
    with pytest.raises(InvalidSignalError, match="Unknown signal type"):
        index.add("phash", ["00"])
    with pytest.raises(InvalidSignalError, match="Unknown signal type"):
        index.query("phash", "00")


def test_given_indexes_are_used_and_made_ones_follow_the_signal_type():
    videos = VpdqIndex(query_match_percent=10, target_match_percent=10)
    index = MultiIndex({"VPDQ": videos})
    assert index.index("vpdq") is videos
    assert isinstance(index.index("pdq"), PdqIndex)
    assert isinstance(index.index("sha256"), ExactIndex)
    assert index.index("md5") is index.index("md5")


def test_query_group_reports_each_entry_once_at_its_best():
    rng = np.random.default_rng(4)
    base = rng.bytes(32).hex()
    index = MultiIndex()
    index.add("pdq", [base, rng.bytes(32).hex()])
    views = [flipped(base, 20), flipped(base, 3), rng.bytes(32).hex()]
    (hit,) = index.query_group("pdq", views)
    assert (hit.id, hit.distance) == (0, 3)
    index.add("md5", ["ab" * 16])
    assert [h.id for h in index.query_group("md5", ["ab" * 16, "ab" * 16])] == [0]
    assert index.query_group("sha256", ["ab" * 32]) == []

    frames = [VpdqFrame(i, 100, rng.bytes(32).hex(), float(i)) for i in range(10)]
    index.add("vpdq", [VpdqSignal().format(frames)])
    half = VpdqSignal().format(frames[:9])
    whole = VpdqSignal().format(frames)
    (video,) = index.query_group("vpdq", [half, whole])
    assert isinstance(video.hit, VpdqHit) and video.hit.similarity == 100.0
