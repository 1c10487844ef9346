"""What `PdqIndex` promises beyond exact answers, pinned where mutation testing found no test
looking: when the tables are rebuilt (merge thresholds, foreground and background merges, one
merge at a time), what `memory_bytes` counts, the table layout the benchmarks chose, the snapshot's
bytes, ids at the arrays' capacity, and the input types the array API converts.

Merges are observed by wrapping the compiled table builder (`_mih.build_table`): a *gate* holds a
build until the test opens it, so "add returned before the tables were built" is decided by the
order of events, not by timing.
"""

from __future__ import annotations

import hashlib
import struct
import threading
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from redress.matching import PdqIndex, _mih
from redress.matching.pdq_index import TableLayout


def random_rows(count: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, size=(count, 32), dtype=np.uint8)


def hexes(rows: np.ndarray) -> list[str]:
    return [row.tobytes().hex() for row in rows]


class Gate:
    """Wraps `_mih.build_table`: every call waits until `opened` is set (or `hold` seconds pass,
    once per arming), and records (thread, whether the thread is a daemon, whether the test had
    opened the gate)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, hold: float) -> None:
        self.opened = threading.Event()
        self.expired = threading.Event()
        self.hold = hold
        self.calls: list[tuple[int | None, bool, bool]] = []
        # Merges still running from earlier tests' indexes pass straight through, unrecorded.
        # (Thread objects, not idents: an ident is reused once its thread has ended.)
        self.foreign = set(threading.enumerate())
        real = _mih.build_table

        def gated(*args: Any) -> None:
            if threading.current_thread() in self.foreign:
                real(*args)
                return
            released = self.opened.wait(0 if self.expired.is_set() else self.hold)
            if not released:
                self.expired.set()  # one wait per arming, not one per table
            current = threading.current_thread()
            self.calls.append((current.ident, current.daemon, released))
            real(*args)

        monkeypatch.setattr(_mih, "build_table", gated)

    def arm(self) -> None:
        """Close the gate again (the next build waits)."""
        self.opened.clear()
        self.expired.clear()


def test_memory_bytes_counts_hashes_tombstones_and_tables_exactly() -> None:
    count = 3000
    index = PdqIndex(merge_every=10**6, background=False)
    assert index.memory_bytes() == 0
    index.add_bytes(random_rows(count))
    # Before a merge: 32 bytes of hash and one tombstone byte per id, no tables.
    assert index.memory_bytes() == 33 * count
    index.remove(range(10))  # tombstones are kept: the same bytes
    assert index.memory_bytes() == 33 * count
    index.merge(wait=True)
    layout = TableLayout.for_size(count)
    tables = len(layout.widths)
    # Each table: one uint32 entry per id and 2^prefix + 1 uint32 bucket offsets.
    offsets = int(((np.int64(1) << layout.prefix_bits) + 1).sum())
    assert index.memory_bytes() == 33 * count + 4 * tables * count + 4 * offsets


@pytest.mark.parametrize(
    ("count", "tables", "widths", "prefix"),
    [
        # Small banks: 16 tables of 16 bits, 2^8 buckets (log2 n is floored at 10).
        (1, 16, {16}, {8}),
        (1000, 16, {16}, {8}),
        # m ≈ 256 / log2 n with about n / 4 buckets per table.
        (2**20, 13, {19, 20}, {18}),
        (10**7, 11, {23, 24}, {22}),
        # Past 2^30 hashes the ids need the room: the prefix takes all but the low bits left.
        (2**31, 8, {32}, {31}),
        (2**32 - 1, 8, {32}, {32}),
    ],
)
def test_table_layout_is_the_measured_one_and_ids_fit(
    count: int, tables: int, widths: set[int], prefix: set[int]
) -> None:
    layout = TableLayout.for_size(count)
    assert len(layout.widths) == tables
    assert set(layout.widths.tolist()) == widths and int(layout.widths.sum()) == 256
    assert set(layout.prefix_bits.tolist()) == prefix
    # An entry is one uint32: the id above the substring's low bits (not in the prefix).
    id_bits = max(1, (count - 1).bit_length())
    low_bits = layout.widths - layout.prefix_bits
    assert (low_bits >= 0).all() and int(low_bits.max()) + id_bits <= 32
    sizes = (np.int64(1) << layout.prefix_bits) + 1
    assert np.array_equal(layout.offset_base, np.concatenate(([0], np.cumsum(sizes)[:-1])))


def test_merges_when_the_delta_reaches_merge_every_or_an_eighth_of_the_bank() -> None:
    index = PdqIndex(merge_every=64, background=False)
    index.add_bytes(random_rows(63))
    assert index.delta_size == 63
    index.add_bytes(random_rows(1, seed=1))
    assert index.delta_size == 0  # exactly merge_every
    # Geometric: with merge_every 1, a delta merges once it reaches count // 8.
    index = PdqIndex(merge_every=1, background=False)
    index.add_bytes(random_rows(876))
    assert index.delta_size == 0
    index.add_bytes(random_rows(124, seed=2))  # 124 < 1000 // 8
    assert index.delta_size == 124
    index.add_bytes(random_rows(1, seed=3))  # 125 == 1001 // 8 (below 1001 / 8)
    assert index.delta_size == 0


def test_default_merge_every_is_16384_also_after_load(tmp_path: Path) -> None:
    index = PdqIndex(background=False)
    index.add_bytes(random_rows(16_383))
    assert index.delta_size == 16_383
    index.add_bytes(random_rows(1, seed=1))
    assert index.delta_size == 0
    path = tmp_path / "one.pdqix"
    single = PdqIndex(background=False)
    single.add_bytes(random_rows(1))
    single.save(path)
    loaded = PdqIndex.load(path, background=False)
    assert loaded.delta_size == 0
    loaded.add_bytes(random_rows(16_383, seed=2))
    assert loaded.delta_size == 16_383
    loaded.add_bytes(random_rows(1, seed=3))
    assert loaded.delta_size == 0


def test_foreground_add_merge_and_load_return_with_the_tables_built(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # Each build below waits for the gate, which the test opens only after the call returned:
    # a call that returned without waiting leaves its delta unmerged.
    gate = Gate(monkeypatch, hold=1.0)
    try:
        index = PdqIndex(merge_every=64, background=False)
        index.add_bytes(random_rows(64))
        assert index.delta_size == 0
        gate.arm()
        index.add_bytes(random_rows(10, seed=1))
        index.merge()  # waits by default
        assert index.delta_size == 0
        path = tmp_path / "bank.pdqix"
        index.save(path)
        gate.arm()
        loaded = PdqIndex.load(path)  # background by default, but load itself waits
        assert loaded.delta_size == 0 and len(loaded) == 74
    finally:
        gate.opened.set()


def test_background_merges_run_beside_adds_one_at_a_time_on_a_daemon_thread(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    gate = Gate(monkeypatch, hold=5.0)
    rows = random_rows(8)
    try:
        before = set(threading.enumerate())
        index = PdqIndex(merge_every=8)  # background by default
        index.add_bytes(rows)  # starts a merge and returns while it is held at the gate
        assert index.delta_size == 8
        assert [h.id for h in index.search(hexes(rows[3:4]), 0)[0]] == [3]  # matches meanwhile
        index.merge(wait=False)  # a merge is running: no second one
        index.add_bytes(random_rows(2, seed=1))  # over merge_every again: still the one merge
        started = [t for t in threading.enumerate() if t not in before]
        assert len(started) == 1  # the one merge, still held at the gate
        gate.opened.set()
        index.merge(wait=True)  # joins the running merge (over the first 8)...
        index.merge(wait=True)  # ...then one over all 10
        assert index.delta_size == 0
        assert gate.calls and all(daemon and opened for _, daemon, opened in gate.calls)
        first = gate.calls[0][0]
        layout = TableLayout.for_size(8)
        assert [ident for ident, _, _ in gate.calls[: len(layout.widths)]] == [first] * len(
            layout.widths
        )

        # A loaded index merges in the background by default too.
        path = tmp_path / "bank.pdqix"
        index.save(path)
        loaded = PdqIndex.load(path, merge_every=8)  # (load's own merge passes the open gate)
        gate.arm()
        gate.calls.clear()
        loaded.add_bytes(random_rows(8, seed=2))
        assert loaded.delta_size == 8
        gate.opened.set()
        loaded.merge(wait=True)
        loaded.merge(wait=True)
        assert loaded.delta_size == 0
        assert gate.calls and all(opened for _, _, opened in gate.calls)
    finally:
        gate.opened.set()


def test_a_merge_with_nothing_new_builds_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    builds: list[int] = []
    real = _mih.build_table

    def counted(*args: Any) -> None:
        builds.append(int(args[1]))  # the count of hashes the table is built over
        real(*args)

    monkeypatch.setattr(_mih, "build_table", counted)
    index = PdqIndex(merge_every=10**6, background=False)
    index.merge()
    assert builds == []  # an empty index has nothing to build
    index.add(["ab" * 32])
    index.merge()
    assert index.delta_size == 0 and builds and set(builds) == {1}
    built = len(builds)
    index.merge()
    assert len(builds) == built  # already up to date


def test_ids_at_the_arrays_capacity() -> None:
    # 1024 ids fill the first allocation exactly: id 1024 is past the end, not a crash.
    index = PdqIndex(merge_every=10**6, background=False)
    index.add_bytes(random_rows(1024))
    assert index.is_live(1023) and not index.is_live(1024)
    assert index.remove([1024, 1023]) == 1
    assert not index.is_live(1023) and len(index) == 1023


def test_integer_arrays_of_any_type_are_read_by_value() -> None:
    rows = random_rows(5)
    index = PdqIndex(background=False)
    assert index.add_bytes(rows.astype(np.int64)) == range(5)  # byte values, not 8-byte words
    assert [index.hash_of(i) for i in range(5)] == hexes(rows)
    words = np.ascontiguousarray(rows).view(">u8").reshape(-1, 4).astype(np.uint64)
    groups = np.arange(5, dtype=np.int64)
    unsigned = index.search_arrays(words, groups, 10)
    signed = index.search_arrays(words.view(np.int64), groups, 10)  # the same bits, signed
    for a, b in zip(unsigned, signed, strict=True):
        assert np.array_equal(a, b) and b.dtype == np.int64
    assert [int(i) for i in signed[1]] == [0, 1, 2, 3, 4]


def test_empty_answers_have_the_same_types_as_full_ones() -> None:
    index = PdqIndex(background=False)
    none = np.zeros((0, 4), dtype=np.uint64)
    for answer in (
        index.search_arrays(np.zeros((1, 4), np.uint64), np.zeros(1, np.int64), 8),  # no hashes
        (index.add(["00" * 32]), index.search_arrays(none, np.zeros(0, np.int64), 8))[1],
    ):
        assert [a.dtype for a in answer] == [np.dtype(np.int64)] * 3
        assert [len(a) for a in answer] == [0, 0, 0]


def test_snapshot_bytes_are_the_documented_format(tmp_path: Path) -> None:
    # docs/pdq-index-format.md, written out independently of the code.
    rows = random_rows(10)
    index = PdqIndex(background=False)
    index.add_bytes(rows)
    index.remove([1, 8])
    path = tmp_path / "bank.pdqix"
    index.save(path)
    body = struct.pack("<16sIIQ", b"REDRESS-PDQIX\0\0\0", 1, 0, 10) + rows.tobytes()
    body += bytes([0b11111101, 0b00000010])  # ids 0..9, 1 and 8 removed, least significant first
    assert path.read_bytes() == body + hashlib.sha256(body).digest()
    assert [p.name for p in tmp_path.iterdir()] == ["bank.pdqix"]  # no temporary left behind


def test_empty_inputs_add_and_find_nothing() -> None:
    index = PdqIndex(background=False)
    assert index.add([]) == range(0, 0)
    assert (len(index), index.total_ids, index.memory_bytes()) == (0, 0, 0)
    index.add(["00" * 32])
    assert index.add([]) == range(1, 1) and index.total_ids == 1
    assert index.search([]) == []
    assert index.search_groups([[]]) == [[]]  # a picture with no hashes matches nothing
    assert [[h.id for h in hits] for hits in index.search_groups([[], ["00" * 32]])] == [[], [0]]
