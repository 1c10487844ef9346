"""Every index kind behaves the same through the one index protocol (add, remove, query), and
the signal types drive which index holds them."""

from __future__ import annotations

import numpy as np
import pytest

from redress.hashing.errors import InvalidSignalError
from redress.hashing.signal_types import SIGNAL_TYPES, IndexKind, VpdqFrame, VpdqSignal
from redress.matching import (
    INDEX_CLASSES,
    ExactIndex,
    Hit,
    PdqIndex,
    SignalIndex,
    VpdqHit,
    VpdqIndex,
    new_index,
)

RNG = np.random.default_rng(11)


def _pdq() -> str:
    return RNG.bytes(32).hex()


def _video() -> str:
    frames = [VpdqFrame(i, 100, _pdq(), float(i)) for i in range(6)]
    return VpdqSignal().format(frames)


# A fresh value of each signal type: distinct values never match one another.
VALUES = {
    "pdq": _pdq,
    "md5": lambda: RNG.bytes(16).hex(),
    "sha256": lambda: RNG.bytes(32).hex(),
    "vpdq": _video,
}


@pytest.fixture(params=sorted(SIGNAL_TYPES))
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def test_each_signal_type_names_its_index_and_threshold():
    expected = {
        "pdq": (IndexKind.HAMMING, PdqIndex, 31),
        "md5": (IndexKind.EXACT, ExactIndex, 0),
        "sha256": (IndexKind.EXACT, ExactIndex, 0),
        "vpdq": (IndexKind.VIDEO, VpdqIndex, 80.0),
    }
    assert set(expected) == set(SIGNAL_TYPES)
    for name, (index_kind, cls, threshold) in expected.items():
        signal_type = SIGNAL_TYPES[name]
        assert signal_type.index_kind is index_kind
        assert INDEX_CLASSES[index_kind] is cls
        assert type(new_index(name)) is cls
        assert type(new_index(signal_type)) is cls
        assert signal_type.default_threshold == threshold
    assert set(INDEX_CLASSES) == set(IndexKind)


def test_new_index_refuses_an_unknown_type():
    with pytest.raises(InvalidSignalError, match="Unknown signal type 'phash'"):
        new_index("phash")


def test_exact_hit_and_miss(kind):
    index: SignalIndex = new_index(kind)
    values = [VALUES[kind]() for _ in range(5)]
    ids = index.add(values)
    assert list(ids) == [0, 1, 2, 3, 4] and len(index) == 5
    (hit,) = index.query(values[3])
    assert isinstance(hit, Hit) and hit.id == 3
    if kind == "vpdq":
        assert isinstance(hit, VpdqHit) and hit.distance is None and hit.similarity == 100.0
    else:
        assert hit.distance == 0
    assert index.query(VALUES[kind]()) == []


def test_removed_entries_are_not_returned_and_count_once(kind):
    index = new_index(kind)
    values = [VALUES[kind]() for _ in range(3)]
    index.add(values)
    assert index.remove([1]) == 1
    assert index.query(values[1]) == []
    assert [hit.id for hit in index.query(values[0])] == [0]
    assert index.remove([1]) == 0  # removing twice counts once
    assert index.remove([1, 1, 2, 7, -1]) == 1  # repeats and unknown ids are not counted
    assert len(index) == 1


def test_ids_are_never_reused(kind):
    index = new_index(kind)
    first = VALUES[kind]()
    index.add([first])
    index.remove([0])
    again = index.add([first, VALUES[kind]()])
    assert list(again) == [1, 2]
    assert [hit.id for hit in index.query(first)] == [1]


def test_a_value_added_twice_has_two_live_ids(kind):
    index = new_index(kind)
    value = VALUES[kind]()
    index.add([value, value])
    assert sorted(hit.id for hit in index.query(value)) == [0, 1]
    index.remove([0])
    assert [hit.id for hit in index.query(value)] == [1]


def test_thresholds_reach_the_index():
    pdq = PdqIndex()
    base = bytearray(RNG.bytes(32))
    pdq.add([base.hex()])
    base[0] ^= 0b111  # three bits away
    assert pdq.query(base.hex(), 2) == []
    assert [(h.id, h.distance) for h in pdq.query(base.hex(), 3)] == [(0, 3)]
    assert [(h.id, h.distance) for h in pdq.query(base.hex(), 3.0)] == [(0, 3)]
    with pytest.raises(ValueError, match="whole number of bits"):
        pdq.query(base.hex(), 3.5)

    videos = VpdqIndex()
    frames = [VpdqFrame(i, 100, _pdq(), float(i)) for i in range(10)]
    videos.add([VpdqSignal().format(frames)])
    half = VpdqSignal().format(frames[:5] + [VpdqFrame(9, 100, _pdq(), 9.0)] * 5)
    assert videos.query(half) == []  # 50 % of the query, 50 % of the video: under 80
    (hit,) = videos.query(half, 50)
    assert (hit.query_match_percent, hit.target_match_percent, hit.similarity) == (50.0, 50.0, 50.0)


def test_exact_index_ignores_the_threshold():
    index = ExactIndex()
    index.add(["ab" * 16])
    assert index.query("ab" * 16, 31) == index.query("ab" * 16) == [Hit(0, 0)]
