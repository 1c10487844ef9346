"""`ExactIndex`: exact-value lookup for cryptographic digests (MD5, SHA-256)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from redress.matching.protocol import Hit


class ExactIndex:
    """Maps a normalised value to the ids it was added under; ids are never reused."""

    def __init__(self) -> None:
        self._ids: dict[str, list[int]] = {}
        self._values: list[str | None] = []
        self._live = 0

    def __len__(self) -> int:
        """Live (not removed) entries."""
        return self._live

    def add(self, values: Sequence[str]) -> range:
        """Add values; returns the ids they were given (insertion order from 0)."""
        start = len(self._values)
        for offset, value in enumerate(values):
            self._ids.setdefault(value, []).append(start + offset)
            self._values.append(value)
        self._live += len(values)
        return range(start, len(self._values))

    def remove(self, ids: Iterable[int]) -> int:
        """Remove entries by id; returns how many were live."""
        removed = 0
        for id_ in ids:
            if not 0 <= id_ < len(self._values):
                continue
            value = self._values[id_]
            if value is None:
                continue
            holders = self._ids[value]
            holders.remove(id_)
            if not holders:
                del self._ids[value]
            self._values[id_] = None
            removed += 1
        self._live -= removed
        return removed

    def search(self, value: str) -> list[int]:
        """Live ids of entries equal to `value`."""
        return list(self._ids.get(value, ()))

    def query(self, value: str, threshold: float | None = None) -> list[Hit]:
        """Live entries equal to `value`, at distance 0 (a digest has no threshold: ignored)."""
        return [Hit(id_, 0) for id_ in self._ids.get(value, ())]
