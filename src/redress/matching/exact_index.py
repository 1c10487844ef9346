"""`ExactIndex`: exact-value lookup for cryptographic digests (MD5, SHA-256)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence


class ExactIndex:
    """Maps a normalised value to the ids it was added under."""

    def __init__(self) -> None:
        self._ids: defaultdict[str, list[int]] = defaultdict(list)
        self._count = 0

    def __len__(self) -> int:
        return self._count

    def add(self, values: Sequence[str]) -> range:
        """Add values; returns the ids they were given (insertion order from 0)."""
        start = self._count
        for offset, value in enumerate(values):
            self._ids[value].append(start + offset)
        self._count += len(values)
        return range(start, self._count)

    def search(self, value: str) -> list[int]:
        """Ids of entries equal to `value`."""
        return list(self._ids.get(value, ()))
