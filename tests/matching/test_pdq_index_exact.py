"""The PDQ index's tables at their exact limits: the probe radii are the smallest that cannot
miss (an adversarial near-copy at exactly the threshold, found through the tables whichever table
holds the slack), removals counted once, ids at their bounds, groups closest first."""

from __future__ import annotations

import numpy as np
import pytest

from redress.matching import PdqIndex
from redress.matching.pdq_index import TableLayout

SIZE = 3000


def hexes(rows: np.ndarray) -> list[str]:
    return [row.tobytes().hex() for row in rows]


def flip_bits(row: np.ndarray, bits: list[int]) -> np.ndarray:
    out = row.copy()
    for bit in bits:  # bit k counts from the first hex digit's top bit
        out[bit // 8] ^= 1 << (7 - bit % 8)
    return out


@pytest.mark.parametrize("count", [1, 1000, SIZE, 10**6, 10**8])
def test_radii_are_exactly_enough_by_pigeonhole(count: int) -> None:
    layout = TableLayout.for_size(count)
    tables = len(layout.widths)
    assert int(layout.widths.sum()) == 256 and layout.starts[0] == 0
    assert np.array_equal(layout.starts[1:], np.cumsum(layout.widths)[:-1])
    for threshold in range(0, 100):
        radii = layout.radii(threshold)
        assert radii.dtype == np.int64 and len(radii) == tables
        # A hash within `threshold` differs in at most r_t bits in some table exactly when the
        # tables' (r_t + 1) sum past the threshold; one more and every probe costs more.
        assert int((radii + 1).sum()) == threshold + 1
        assert radii.max() - radii.min() <= 1 and list(radii) == sorted(radii, reverse=True)


@pytest.mark.parametrize("threshold", [0, 8, 31, 32, 47, 70])
def test_a_copy_at_exactly_the_threshold_is_found_through_any_table(threshold: int) -> None:
    rng = np.random.default_rng(threshold)
    bank = rng.integers(0, 256, size=(SIZE, 32), dtype=np.uint8)
    index = PdqIndex(merge_every=64, background=False)
    index.add_bytes(bank)
    index.merge(wait=True)
    assert index.delta_size == 0  # every search below goes through the tables
    layout = TableLayout.for_size(SIZE)
    radii = layout.radii(threshold)
    queries, sources = [], []
    for slack in range(len(radii)):
        if radii[slack] < 0:  # (small thresholds leave some tables unprobed)
            continue
        # r_t + 1 differing bits in every table but one, r_t in that one: the distance is
        # exactly the threshold and only the table `slack` can see the copy.
        bits: list[int] = []
        for t, (start, width) in enumerate(zip(layout.starts, layout.widths, strict=True)):
            flips = int(radii[t]) + (0 if t == slack else 1)
            chosen = rng.choice(int(width), size=flips, replace=False) + int(start)
            bits += [int(b) for b in chosen]
        assert len(bits) == threshold
        source = int(rng.integers(SIZE))
        queries.append(flip_bits(bank[source], bits))
        sources.append(source)
    for source, hits in zip(
        sources, index.search(hexes(np.array(queries)), threshold), strict=True
    ):
        assert (source, threshold) in [(h.id, h.distance) for h in hits]


def test_removing_twice_or_out_of_range_counts_once() -> None:
    index = PdqIndex(background=False)
    index.add(["0" * 64, "f" * 64, "a" * 64])
    assert index.remove([1, 1]) == 1
    assert index.remove([1]) == 0
    assert index.remove([-1, 3, 4]) == 0
    assert len(index) == 2
    assert index.remove([0, 2]) == 2
    assert len(index) == 0
    assert [index.is_live(i) for i in (-1, 0, 1, 2, 3)] == [False] * 5


def test_ids_at_their_bounds() -> None:
    index = PdqIndex(background=False)
    values = ["0123456789abcdef" * 4, "f" * 64]
    index.add(values)
    assert [index.is_live(i) for i in (-1, 0, 1, 2)] == [False, True, True, False]
    assert [index.hash_of(0), index.hash_of(1)] == values
    for bad in (-1, 2):
        with pytest.raises(KeyError) as caught:
            index.hash_of(bad)
        assert caught.value.args == (bad,)


def test_hits_come_closest_first_in_groups_too() -> None:
    rng = np.random.default_rng(5)
    base = rng.integers(0, 256, size=32, dtype=np.uint8)
    rows = np.array([flip_bits(base, list(range(d))) for d in (20, 3, 11, 0, 7)])
    index = PdqIndex(background=False)
    index.add_bytes(rows)
    (hits,) = index.search([base.tobytes().hex()], 31)
    assert [(h.id, h.distance) for h in hits] == [(3, 0), (1, 3), (4, 7), (2, 11), (0, 20)]
    (grouped,) = index.search_groups([[base.tobytes().hex(), hexes(rows[:1])[0]]], 31)
    assert [h.distance for h in grouped] == sorted(h.distance for h in grouped)
    assert {h.id for h in grouped} == {0, 1, 2, 3, 4}
    assert next(h for h in grouped if h.id == 0).distance == 0


def test_thresholds_at_the_ends_of_the_range() -> None:
    index = PdqIndex(background=False)
    index.add(["0" * 64, "f" * 64])
    ((far, near),) = [sorted(index.search(["f" * 64], 256)[0], key=lambda h: -h.distance)]
    assert (far.id, far.distance, near.id, near.distance) == (0, 256, 1, 0)
    for bad in (-1, 257):
        with pytest.raises(ValueError) as caught:
            index.search(["0" * 64], bad)
        assert str(caught.value) == f"threshold must be between 0 and 256, got {bad}"


def test_snapshots_too_short_or_of_another_version_are_refused_by_name(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from redress.matching import IndexFormatError
    from redress.matching.pdq_index import _HEADER, FORMAT_VERSION, MAGIC

    path = tmp_path / "bank.pdqix"
    index = PdqIndex(background=False)
    index.add(["ab" * 32])
    index.save(path)
    good = path.read_bytes()
    for size in (0, _HEADER.size + 31):
        path.write_bytes(good[:size])
        with pytest.raises(IndexFormatError) as caught:
            PdqIndex.load(path)
        assert str(caught.value) == f"{path}: too short to be a PDQ index snapshot"
    path.write_bytes(good[: _HEADER.size + 32])  # long enough to read: refused as truncated
    with pytest.raises(IndexFormatError, match="truncated"):
        PdqIndex.load(path)
    newer = _HEADER.pack(MAGIC, FORMAT_VERSION + 1, 0, 1) + good[_HEADER.size :]
    path.write_bytes(newer)
    with pytest.raises(IndexFormatError) as caught:
        PdqIndex.load(path)
    assert str(caught.value) == (
        f"{path}: snapshot format {FORMAT_VERSION + 1}; this version reads format {FORMAT_VERSION}"
    )
    path.write_bytes(good)
    loaded = PdqIndex.load(path, merge_every=5, background=False)
    assert (loaded.merge_every, loaded.background, len(loaded)) == (5, False, 1)
    assert loaded.hash_of(0) == "ab" * 32
