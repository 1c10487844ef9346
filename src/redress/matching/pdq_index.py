"""`PdqIndex`: radius search over 256-bit PDQ hashes.

This first version is exact brute force over FAISS's `IndexBinaryFlat` (hardware popcount over
packed bits): about a thousand queries a second on a million hashes on one core, plenty for hash
lists and for tests. The interface (add, search within a radius, ids back) is the one the scalable
multi-index-hashing index will keep.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import faiss
import numpy as np

from redress.hashing.signal_types import PdqSignal

_BITS = PdqSignal.bits
_BYTES = _BITS // 8


def pdq_hex_to_bytes(hashes: Sequence[str]) -> np.ndarray:
    """Hex PDQ hashes to an (n, 32) uint8 array, most significant byte first."""
    if not hashes:
        return np.zeros((0, _BYTES), dtype=np.uint8)
    return np.frombuffer(bytes.fromhex("".join(hashes)), dtype=np.uint8).reshape(-1, _BYTES)


@dataclass(frozen=True, slots=True)
class PdqHit:
    """One indexed hash within the search radius of a query."""

    id: int
    distance: int


class PdqIndex:
    """Exact radius search over PDQ hashes; ids are assigned in insertion order from 0."""

    def __init__(self) -> None:
        self._index = faiss.IndexBinaryFlat(_BITS)

    def __len__(self) -> int:
        return int(self._index.ntotal)

    def add(self, hashes: Sequence[str]) -> range:
        """Add normalised hex hashes; returns the ids they were given."""
        start = len(self)
        if hashes:
            self._index.add(pdq_hex_to_bytes(hashes))
        return range(start, len(self))

    def search(
        self, queries: Sequence[str], threshold: int = PdqSignal.default_threshold
    ) -> list[list[PdqHit]]:
        """For each query, every indexed hash within `threshold` bits, closest first."""
        if not queries:
            return []
        if len(self) == 0:
            return [[] for _ in queries]
        # FAISS's binary range search keeps distances strictly below the radius.
        limits, distances, ids = self._index.range_search(
            pdq_hex_to_bytes(queries), int(threshold) + 1
        )
        results: list[list[PdqHit]] = []
        for row in range(len(queries)):
            begin, end = int(limits[row]), int(limits[row + 1])
            order = np.argsort(distances[begin:end], kind="stable")
            results.append([PdqHit(int(ids[begin + k]), int(distances[begin + k])) for k in order])
        return results
