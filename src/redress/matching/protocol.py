"""The one index protocol every signal index implements, and the hit it answers with.

An index holds normalised signal values (the canonical text of `redress.hashing.signal_types`)
under integer ids given in insertion order from 0 and never reused: `add` returns the new ids,
`remove` marks ids dead (counting only those that were live), and `query` returns the live ids
whose values match one value at a threshold (the signal type's default if None).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class Hit:
    """An indexed value that matched a query: its id and, where the type has one, the distance
    (Hamming bits for PDQ, 0 for an exact digest, None for a video, whose hit says how much of
    each video the other covers instead)."""

    id: int
    distance: int | None


class SignalIndex(Protocol):
    """What `PdqIndex`, `VpdqIndex` and `ExactIndex` have in common (see the module docstring)."""

    def __len__(self) -> int:
        """Live (not removed) entries."""
        ...

    def add(self, values: Sequence[str]) -> range:
        """Add normalised values; returns the ids they were given."""
        ...

    def remove(self, ids: Iterable[int]) -> int:
        """Stop matching these ids; returns how many were live."""
        ...

    def query(self, value: str, threshold: float | None = None) -> Sequence[Hit]:
        """Live entries matching `value` at `threshold` (the signal type's default if None)."""
        ...
