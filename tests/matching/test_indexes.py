"""Every index against its brute-force reference, on random and on clustered hashes."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from redress.hashing.signal_types import VpdqFrame
from redress.matching import ExactIndex, IndexFormatError, PdqIndex, VpdqIndex
from redress.matching.brute_force import pdq_radius_search, vpdq_search
from redress.matching.pdq_index import TableLayout


def flip(rows: np.ndarray, rng: np.random.Generator, most: int) -> np.ndarray:
    """Copies of `rows` with up to `most` random bits flipped in each."""
    out = rows.copy()
    for row in out:
        for bit in rng.choice(256, int(rng.integers(0, most + 1)), replace=False):
            row[bit // 8] ^= 1 << (7 - bit % 8)
    return out


def make_bank(rng: np.random.Generator, size: int, clustered: bool) -> np.ndarray:
    """Random hashes, or tight clusters around a few centres (as real PDQ banks are)."""
    if not clustered:
        return rng.integers(0, 256, size=(size, 32), dtype=np.uint8)
    centres = rng.integers(0, 256, size=(max(1, size // 40), 32), dtype=np.uint8)
    return flip(centres[rng.integers(0, len(centres), size)], rng, 40)


def make_queries(rng: np.random.Generator, bank: np.ndarray, count: int) -> np.ndarray:
    """Half near-copies of bank rows, half fresh random hashes."""
    near = flip(bank[rng.integers(0, len(bank), count // 2 + 1)], rng, 36)
    far = rng.integers(0, 256, size=(count // 2, 32), dtype=np.uint8)
    return np.concatenate((near, far))


def hexes(rows: np.ndarray) -> list[str]:
    return [row.tobytes().hex() for row in rows]


def as_pairs(results: list) -> list[list[tuple[int, int]]]:
    return [[(hit.id, hit.distance) for hit in row] for row in results]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 2**32 - 1),
    size=st.integers(1, 3000),
    clustered=st.booleans(),
    threshold=st.sampled_from([0, 8, 31, 32, 47, 70]),
    merged_share=st.floats(0, 1),
    removed_share=st.floats(0, 0.5),
)
def test_pdq_index_equals_brute_force(
    seed, size, clustered, threshold, merged_share, removed_share
):
    rng = np.random.default_rng(seed)
    bank = make_bank(rng, size, clustered)
    index = PdqIndex(merge_every=10**9)
    merged = int(size * merged_share)
    index.add_bytes(bank[:merged])
    index.merge()  # tables over the first part; the rest stays in the delta
    index.add_bytes(bank[merged:])
    removed = rng.choice(size, int(size * removed_share), replace=False)
    index.remove(removed.tolist())
    live = np.ones(size, dtype=bool)
    live[removed] = False
    queries = make_queries(rng, bank, 20)
    expected = pdq_radius_search(bank, live, queries, threshold)
    assert as_pairs(index.search(hexes(queries), threshold)) == expected
    assert len(index) == int(live.sum())


def test_pdq_index_at_scale_with_big_tables():
    """200k hashes: the table layout is the one real banks get (11+ tables of ~18+ bits)."""
    rng = np.random.default_rng(7)
    bank = np.concatenate((make_bank(rng, 100_000, True), make_bank(rng, 100_000, False)))
    index = PdqIndex()
    index.add_bytes(bank)
    index.merge()
    layout = TableLayout.for_size(len(bank))
    assert len(layout.widths) < 16 and layout.widths.sum() == 256
    queries = make_queries(rng, bank, 300)
    live = np.ones(len(bank), dtype=bool)
    expected = pdq_radius_search(bank, live, queries, 31)
    assert sum(map(len, expected)) > 150  # the comparison is not vacuous
    assert as_pairs(index.search(hexes(queries), 31)) == expected


def test_adds_and_removes_take_effect_immediately():
    rng = np.random.default_rng(1)
    bank = make_bank(rng, 5000, False)
    index = PdqIndex(merge_every=1000, background=True)
    index.add_bytes(bank)
    index.merge()
    probe = flip(bank[:1], rng, 10)
    new = flip(probe, rng, 5)
    assert index.search(hexes(probe))[0][0].id == 0
    (new_id,) = index.add(hexes(new))
    assert {hit.id for hit in index.search(hexes(probe))[0]} == {0, new_id}
    index.remove([0])
    assert [hit.id for hit in index.search(hexes(probe))[0]] == [new_id]
    index.add_bytes(make_bank(rng, 1500, False))  # passes merge_every: a background merge
    index.merge(wait=True)
    assert index.delta_size == 0
    assert [hit.id for hit in index.search(hexes(probe))[0]] == [new_id]


def test_groups_report_each_hash_once_at_its_smallest_distance():
    rng = np.random.default_rng(2)
    bank = make_bank(rng, 2000, False)
    index = PdqIndex()
    index.add_bytes(bank)
    index.merge()
    near, nearer = flip(bank[5:6], rng, 20), flip(bank[5:6], rng, 3)
    (hits,) = index.search_groups([hexes(near) + hexes(nearer)])
    assert [hit.id for hit in hits] == [5]
    assert hits[0].distance == min(h.distance for h in index.search(hexes(nearer))[0])


def test_snapshot_round_trip_keeps_ids_and_tombstones(tmp_path):
    rng = np.random.default_rng(3)
    bank = make_bank(rng, 4000, True)
    index = PdqIndex()
    index.add_bytes(bank)
    index.remove([1, 2, 3])
    path = tmp_path / "bank.pdqix"
    index.save(path)
    loaded = PdqIndex.load(path)
    assert len(loaded) == len(index) == 3997
    assert loaded.hash_of(10) == index.hash_of(10)
    queries = hexes(make_queries(rng, bank, 50))
    assert as_pairs(loaded.search(queries)) == as_pairs(index.search(queries))
    assert not loaded.is_live(2)


def test_damaged_or_foreign_snapshots_are_refused(tmp_path):
    index = PdqIndex()
    index.add(["f" * 64, "0" * 64])
    path = tmp_path / "bank.pdqix"
    index.save(path)
    data = bytearray(path.read_bytes())
    data[40] ^= 1
    path.write_bytes(bytes(data))
    with pytest.raises(IndexFormatError, match="checksum"):
        PdqIndex.load(path)
    path.write_bytes(b"PK\x03\x04" + bytes(100))
    with pytest.raises(IndexFormatError, match="not a Redress PDQ index"):
        PdqIndex.load(path)
    path.write_bytes(bytes(data[:-40]))
    with pytest.raises(IndexFormatError, match="truncated"):
        PdqIndex.load(path)


def test_thresholds_out_of_range_are_refused():
    index = PdqIndex()
    index.add(["0" * 64])
    with pytest.raises(ValueError, match="between 0 and 256"):
        index.search(["0" * 64], 300)


def video(rng: np.random.Generator, base: np.ndarray, frames: int, noise: int) -> list[VpdqFrame]:
    rows = flip(base[rng.integers(0, len(base), frames)], rng, noise)
    qualities = rng.choice([30, 80, 100], frames, p=[0.1, 0.3, 0.6])
    return [
        VpdqFrame(i, int(q), row.tobytes().hex(), float(i))
        for i, (q, row) in enumerate(zip(qualities, rows, strict=True))
    ]


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), videos=st.integers(1, 25), percent=st.sampled_from([50, 80]))
def test_vpdq_index_equals_brute_force(seed, videos, percent):
    rng = np.random.default_rng(seed)
    scenes = make_bank(rng, 60, True)  # shared scenes: videos overlap partly
    library = [
        video(rng, scenes[rng.integers(0, 60, 8)], int(rng.integers(1, 30)), 12)
        for _ in range(videos)
    ]
    index = VpdqIndex(query_match_percent=percent, target_match_percent=percent)
    for frames in library:
        index.add_frames(frames)
    gone = set(rng.choice(videos, videos // 4, replace=False).tolist())
    index.remove(gone)
    kept = [None if i in gone else frames for i, frames in enumerate(library)]
    for target in range(min(videos, 5)):
        source = library[target]  # a re-encoded copy: every frame a few bits off
        noisy = flip(np.array([bytearray.fromhex(f.pdq) for f in source], dtype=np.uint8), rng, 6)
        query = [
            VpdqFrame(f.frame_number, f.quality, row.tobytes().hex(), f.timestamp)
            for f, row in zip(source, noisy, strict=True)
        ]
        expected = vpdq_search(
            kept, query, query_match_percent=percent, target_match_percent=percent
        )
        found = {m.id: (m.query_match_percent, m.target_match_percent) for m in index.search(query)}
        assert found == expected
        if target not in gone and any(f.quality >= 50 for f in library[target]):
            assert target in found


def test_vpdq_segments_are_the_matched_time_ranges():
    rng = np.random.default_rng(5)
    scenes = make_bank(rng, 40, False)
    long = [VpdqFrame(i, 100, scenes[i].tobytes().hex(), float(i)) for i in range(40)]
    index = VpdqIndex(query_match_percent=80, target_match_percent=20)
    index.add_frames(long)
    clip = [VpdqFrame(i, 100, f.pdq, float(i)) for i, f in enumerate(long[10:20] + long[30:35])]
    (match,) = index.search(clip)
    assert match.segments == [(10.0, 19.0), (30.0, 34.0)]
    assert match.query_segments == [(0.0, 14.0)]
    assert match.target_match_percent == pytest.approx(100 * 15 / 40, abs=0.1)


def test_exact_index_add_remove():
    index = ExactIndex()
    ids = index.add(["a" * 32, "b" * 32, "a" * 32])
    assert index.search("a" * 32) == [0, 2]
    assert index.remove([0, 0, 9]) == 1
    assert index.search("a" * 32) == [2] and len(index) == 2
    assert list(ids) == [0, 1, 2]


def test_merge_and_wait_covers_what_a_running_merge_started_without(monkeypatch):
    """A merge already running when `merge(wait=True)` is called began with fewer hashes; the
    call still returns only once the tables cover everything added before it."""
    from redress.matching import pdq_index

    started, release, joining = threading.Event(), threading.Event(), threading.Event()
    real_build = pdq_index._build

    def held_build(words, count):
        started.set()
        assert release.wait(30)
        return real_build(words, count)

    monkeypatch.setattr(pdq_index, "_build", held_build)
    rng = np.random.default_rng(9)
    index = PdqIndex(merge_every=1000)
    index.add_bytes(make_bank(rng, 2000, False))  # past merge_every: a background merge
    assert started.wait(30)
    index.add_bytes(make_bank(rng, 500, False))  # while that merge holds 2000 hashes
    running = index._merging
    real_join = running.join

    def join(timeout=None):
        joining.set()
        real_join(timeout)

    running.join = join  # the call below joins the running merge: then let it finish
    caller = threading.Thread(target=index.merge)
    caller.start()
    assert joining.wait(30)
    release.set()
    caller.join(30)
    assert not caller.is_alive()
    assert index.delta_size == 0 and index._tables.count == 2500
