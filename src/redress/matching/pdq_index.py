"""`PdqIndex`: exact radius search over 256-bit PDQ hashes by multi-index hashing.

How it works (Norouzi, Punjani and Fleet, "Fast search in Hamming space with multi-index hashing"):
the 256 bits are cut into `m` substrings, one hash table per substring. Two hashes within distance
`r` must be within `r // m` (or one less, for some tables) in at least one substring, so probing
every bucket within that small radius in each table finds every match, and only the candidates
found that way are compared in full. `m` is chosen from the bank size so that a table has about
as many buckets as hashes (`m ≈ 256 / log2 n`). The compiled kernels are in `_mih`.

Incremental by design: `add` appends to a small *delta* that searches scan by brute force, and
the tables are rebuilt over everything in a background thread once the delta passes
`merge_every` hashes; `remove` marks an id dead at once (a tombstone checked on every hit).
Ids are given in insertion order from 0 and never reused. `save`/`load` write the versioned,
checksummed format described in docs/pdq-index-format.md (not pickle).
"""

from __future__ import annotations

import hashlib
import math
import struct
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from redress.hashing.signal_types import PdqSignal
from redress.matching import _mih
from redress.matching.protocol import Hit

_BITS = PdqSignal.bits
_BYTES = _BITS // 8
MAGIC = b"REDRESS-PDQIX\0\0\0"
FORMAT_VERSION = 1
_HEADER = struct.Struct("<16sIIQ")  # magic, version, reserved, count
# Beyond this radius probing costs more than a scan; the index scans instead (still exact).
_MAX_PROBE_THRESHOLD = 47


class IndexFormatError(ValueError):
    """A snapshot file that is not a PDQ index this version can read (the message says why)."""


def pdq_hex_to_bytes(hashes: Sequence[str]) -> np.ndarray:
    """Hex PDQ hashes to an (n, 32) uint8 array, most significant byte first."""
    if not hashes:
        return np.zeros((0, _BYTES), dtype=np.uint8)
    return np.frombuffer(bytes.fromhex("".join(hashes)), dtype=np.uint8).reshape(-1, _BYTES)


def bytes_to_words(rows: np.ndarray) -> np.ndarray:
    """(n, 32) uint8 hash bytes to (n, 4) native uint64 words, first bits in the top of word 0."""
    data = np.ascontiguousarray(rows, dtype=np.uint8)
    return data.view(">u8").reshape(-1, 4).astype(np.uint64)


def words_to_hex(words: np.ndarray) -> str:
    """One hash's four words back to 64 hex digits."""
    return words.astype(">u8").tobytes().hex()


@dataclass(frozen=True, slots=True)
class PdqHit(Hit):
    """One indexed hash within the search radius of a query, `distance` bits away."""

    distance: int


@dataclass(frozen=True, slots=True)
class TableLayout:
    """How the 256 bits are cut into tables and how each table is addressed."""

    starts: np.ndarray
    widths: np.ndarray
    prefix_bits: np.ndarray
    offset_base: np.ndarray

    @classmethod
    def for_size(cls, count: int) -> TableLayout:
        """Tables for a bank of `count` hashes: m ≈ 256 / log2(count), each about 2^log2(n) wide.

        Measured on 10 M random hashes at radius 31 (bench/pdq_index.py): m = 11 of 23-24 bits
        answers ~5,000 queries/s/core, m = 12 ~3,000, m = 16 (HMA's shape) ~700.
        """
        log_n = max(10, math.ceil(math.log2(max(count, 2))))
        tables = max(8, min(16, round(_BITS / log_n)))
        widths = np.array(
            [_BITS // tables + (1 if i < _BITS % tables else 0) for i in range(tables)],
            dtype=np.int64,
        )
        starts = np.concatenate(([0], np.cumsum(widths)[:-1])).astype(np.int64)
        # Buckets ≈ n/4 (a few ids each); the low bits share a uint32 with the id.
        low_room = 32 - max(1, math.ceil(math.log2(max(count, 2))))
        prefix = np.maximum(np.minimum(widths, log_n - 2), widths - low_room).astype(np.int64)
        sizes = (np.int64(1) << prefix) + 1
        offset_base = np.concatenate(([0], np.cumsum(sizes)[:-1])).astype(np.int64)
        return cls(starts, widths, prefix, offset_base)

    def radii(self, threshold: int) -> np.ndarray:
        """Per-table probe radius for `threshold`: r = m·q + a gives a+1 tables q, the rest q-1."""
        tables = len(self.widths)
        quotient, remainder = divmod(int(threshold), tables)
        return np.array(
            [quotient if t <= remainder else quotient - 1 for t in range(tables)], dtype=np.int64
        )


@dataclass(frozen=True, slots=True)
class _Tables:
    """The built tables over ids [0, count), immutable once published."""

    layout: TableLayout
    count: int
    offsets: np.ndarray
    entries: np.ndarray

    @property
    def nbytes(self) -> int:
        return int(self.offsets.nbytes + self.entries.nbytes)


def _build(words: np.ndarray, count: int) -> _Tables:
    layout = TableLayout.for_size(count)
    tables = len(layout.widths)
    offsets = np.empty(int(((np.int64(1) << layout.prefix_bits) + 1).sum()), dtype=np.uint32)
    entries = np.empty(tables * count, dtype=np.uint32)
    for t in range(tables):
        base = int(layout.offset_base[t])
        _mih.build_table(
            words,
            count,
            int(layout.starts[t]),
            int(layout.widths[t]),
            int(layout.prefix_bits[t]),
            offsets[base : base + (1 << int(layout.prefix_bits[t])) + 1],
            entries[t * count : (t + 1) * count],
        )
    return _Tables(layout, count, offsets, entries)


class PdqIndex:
    """Exact radius search over PDQ hashes with immediate adds and removes.

    Thread-safe: searches run without the GIL and may overlap with adds, removes and merges.
    """

    def __init__(self, *, merge_every: int = 16_384, background: bool = True) -> None:
        self.merge_every = merge_every
        self.background = background
        self._lock = threading.Lock()
        self._words = np.zeros((1024, 4), dtype=np.uint64)
        self._alive = np.zeros(1024, dtype=np.bool_)
        self._count = 0
        self._dead = 0
        self._tables: _Tables | None = None
        self._merging: threading.Thread | None = None

    def __len__(self) -> int:
        """Live (not removed) hashes."""
        return self._count - self._dead

    @property
    def total_ids(self) -> int:
        """Ids handed out so far, removed ones included (the next id is this number)."""
        return self._count

    @property
    def delta_size(self) -> int:
        """Hashes added since the tables were last built (scanned by brute force until merged)."""
        tables = self._tables
        return self._count - (tables.count if tables else 0)

    def add(self, hashes: Sequence[str]) -> range:
        """Add normalised hex hashes; returns their ids. They match from this call's return."""
        return self.add_bytes(pdq_hex_to_bytes(list(hashes)))

    def add_bytes(self, rows: np.ndarray) -> range:
        """Add hashes given as an (n, 32) uint8 array (most significant byte first)."""
        words = bytes_to_words(rows)
        with self._lock:
            start = self._count
            end = start + len(words)
            if end > len(self._words):
                capacity = max(end, 2 * len(self._words))
                grown = np.zeros((capacity, 4), dtype=np.uint64)
                grown[:start] = self._words[:start]
                alive = np.zeros(capacity, dtype=np.bool_)
                alive[:start] = self._alive[:start]
                self._words, self._alive = grown, alive
            self._words[start:end] = words
            self._alive[start:end] = True
            self._count = end
        # Geometric: the delta may grow to an eighth of the bank, so bulk loads merge O(log n)
        # times, not once per `merge_every` hashes.
        if self.delta_size >= max(self.merge_every, self._count // 8):
            self.merge(wait=not self.background)
        return range(start, end)

    def remove(self, ids: Iterable[int]) -> int:
        """Mark ids dead (they stop matching at once); returns how many were live."""
        removed = 0
        with self._lock:
            for raw in ids:
                i = int(raw)
                if 0 <= i < self._count and self._alive[i]:
                    self._alive[i] = False
                    removed += 1
            self._dead += removed
        return removed

    def is_live(self, id_: int) -> bool:
        """Whether `id_` was added and not removed."""
        return 0 <= id_ < self._count and bool(self._alive[id_])

    def hash_of(self, id_: int) -> str:
        """The hex hash stored under `id_`."""
        if not 0 <= id_ < self._count:
            raise KeyError(id_)
        return words_to_hex(self._words[id_])

    def merge(self, *, wait: bool = True) -> None:
        """Rebuild the tables over every hash added so far (in the background unless `wait`).

        With `wait`, returns once the tables cover every hash added before the call: a merge
        already running may have started with fewer, and is then followed by another.
        """
        target = self._count
        for _ in range(2):  # a merge started after this call covers `target`
            with self._lock:
                running = self._merging
                if running is None or not running.is_alive():
                    running = threading.Thread(
                        target=self._merge, name="pdq-index-merge", daemon=True
                    )
                    self._merging = running
                    running.start()
            if not wait:
                return
            running.join()
            tables = self._tables
            if target == 0 or (tables is not None and tables.count >= target):
                return

    def _merge(self) -> None:
        with self._lock:
            words, count = self._words, self._count
        if count == 0 or (self._tables is not None and self._tables.count == count):
            return
        tables = _build(words, count)
        with self._lock:
            self._tables = tables

    @staticmethod
    def bits(threshold: float | None) -> int:
        """A protocol threshold as bits: PDQ's default (31) if None; a whole number otherwise."""
        if threshold is None:
            return PdqSignal.default_threshold
        if threshold != int(threshold):
            raise ValueError(f"threshold must be a whole number of bits, got {threshold}")
        return int(threshold)

    def query(self, value: str, threshold: float | None = None) -> list[PdqHit]:
        """Every live indexed hash within `threshold` bits of one normalised hex hash, closest
        first (the index protocol's form of `search`)."""
        return self.search([value], self.bits(threshold))[0]

    def query_group(self, values: Sequence[str], threshold: float | None = None) -> list[PdqHit]:
        """Every live indexed hash within `threshold` bits of any of `values` (views of one
        picture), once, at its smallest distance, closest first: `search_groups` for one group,
        without its per-group lists."""
        if not values:
            return []
        _, ids, distances = self.search_arrays(
            bytes_to_words(pdq_hex_to_bytes(list(values))),
            np.zeros(len(values), dtype=np.int64),
            self.bits(threshold),
        )
        return [PdqHit(i, d) for i, d in zip(ids.tolist(), distances.tolist(), strict=True)]

    def search(
        self, queries: Sequence[str], threshold: int = PdqSignal.default_threshold
    ) -> list[list[PdqHit]]:
        """For each query, every live indexed hash within `threshold` bits, closest first."""
        return self.search_groups([[query] for query in queries], threshold)

    def search_groups(
        self, groups: Sequence[Sequence[str]], threshold: int = PdqSignal.default_threshold
    ) -> list[list[PdqHit]]:
        """For each group of hashes of one picture (e.g. its 8 dihedral variants), every live
        indexed hash within `threshold` of any of them, once, at its smallest distance."""
        flat = [query for group in groups for query in group]
        owner = np.repeat(np.arange(len(groups), dtype=np.int64), [len(g) for g in groups])
        group_ids, ids, distances = self.search_arrays(
            bytes_to_words(pdq_hex_to_bytes(flat)), owner, threshold
        )
        results: list[list[PdqHit]] = [[] for _ in groups]
        for group, id_, distance in zip(
            group_ids.tolist(), ids.tolist(), distances.tolist(), strict=True
        ):
            results[group].append(PdqHit(id_, distance))
        return results

    def search_arrays(
        self, queries: np.ndarray, groups: np.ndarray, threshold: int
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The array form of `search_groups`: queries as (n, 4) uint64 words, `groups[i]` the
        group of query i. Returns (group, id, distance) arrays, one row per (group, id), sorted
        by group, then distance, then id."""
        if not 0 <= threshold <= _BITS:
            raise ValueError(f"threshold must be between 0 and {_BITS}, got {threshold}")
        with self._lock:
            words, alive, count, tables = self._words, self._alive, self._count, self._tables
        empty = np.zeros(0, dtype=np.int64)
        if len(queries) == 0 or count == 0:
            return empty, empty, empty
        queries = np.ascontiguousarray(queries, dtype=np.uint64)
        groups = np.ascontiguousarray(groups, dtype=np.int64)
        parts = []
        scanned_from = 0
        if tables is not None and threshold <= _MAX_PROBE_THRESHOLD:
            layout = tables.layout
            parts.append(
                _mih.search_tables(
                    words,
                    queries,
                    groups,
                    threshold,
                    layout.starts,
                    layout.widths,
                    layout.prefix_bits,
                    layout.radii(threshold),
                    layout.offset_base,
                    tables.offsets,
                    tables.entries,
                    tables.count,
                    alive,
                )
            )
            scanned_from = tables.count
        if scanned_from < count:
            parts.append(_mih.scan(words, scanned_from, count, queries, groups, threshold, alive))
        group_ids = np.concatenate([p[0] for p in parts])
        ids = np.concatenate([p[1] for p in parts])
        distances = np.concatenate([p[2] for p in parts])
        order = np.lexsort((ids, distances, group_ids))
        group_ids, ids, distances = group_ids[order], ids[order], distances[order]
        if len(queries) > len(np.unique(groups)) and len(ids):
            # Several queries per group: keep each (group, id) once, at its smallest distance.
            pairs = np.stack((group_ids, ids), axis=1)
            _, first = np.unique(pairs, axis=0, return_index=True)
            first.sort()
            group_ids, ids, distances = group_ids[first], ids[first], distances[first]
        return group_ids, ids, distances

    def memory_bytes(self) -> int:
        """Bytes held by the index's arrays (hashes, tombstones, tables)."""
        tables = self._tables
        return int(
            self._words[: self._count].nbytes
            + self._alive[: self._count].nbytes
            + (tables.nbytes if tables else 0)
        )

    def save(self, path: Path) -> None:
        """Write a snapshot: header, every hash, the tombstone bitmap, a SHA-256 trailer.

        Written to a temporary file and renamed, so a crash never leaves a half-written snapshot.
        """
        with self._lock:
            count = self._count
            words = self._words[:count].copy()
            alive = self._alive[:count].copy()
        digest = hashlib.sha256()
        temporary = path.with_name(path.name + ".tmp")
        with temporary.open("wb") as out:
            for chunk in (
                _HEADER.pack(MAGIC, FORMAT_VERSION, 0, count),
                words.astype(">u8").tobytes(),
                np.packbits(alive, bitorder="little").tobytes(),
            ):
                digest.update(chunk)
                out.write(chunk)
            out.write(digest.digest())
        temporary.replace(path)

    @classmethod
    def load(cls, path: Path, *, merge_every: int = 16_384, background: bool = True) -> PdqIndex:
        """Read a snapshot written by `save` and build its tables (ids are kept)."""
        data = path.read_bytes()
        if len(data) < _HEADER.size + 32:
            raise IndexFormatError(f"{path}: too short to be a PDQ index snapshot")
        magic, version, _, count = _HEADER.unpack_from(data)
        if magic != MAGIC:
            raise IndexFormatError(f"{path}: not a Redress PDQ index snapshot")
        if version != FORMAT_VERSION:
            raise IndexFormatError(
                f"{path}: snapshot format {version}; this version reads format {FORMAT_VERSION}"
            )
        bitmap = (count + 7) // 8
        expected = _HEADER.size + count * _BYTES + bitmap + 32
        if len(data) != expected:
            raise IndexFormatError(f"{path}: {len(data)} bytes, expected {expected} (truncated?)")
        if hashlib.sha256(data[:-32]).digest() != data[-32:]:
            raise IndexFormatError(f"{path}: checksum mismatch (the file is damaged)")
        index = cls(merge_every=merge_every, background=background)
        body = np.frombuffer(data, dtype=np.uint8, count=count * _BYTES, offset=_HEADER.size)
        index.add_bytes(body.reshape(-1, _BYTES))
        alive = np.unpackbits(
            np.frombuffer(data, dtype=np.uint8, count=bitmap, offset=_HEADER.size + count * _BYTES),
            count=count,
            bitorder="little",
        ).astype(np.bool_)
        index.remove(np.flatnonzero(~alive).tolist())
        index.merge(wait=True)
        return index
