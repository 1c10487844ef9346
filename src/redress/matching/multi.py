"""Signal types drive indexing: the registry from a signal type's index kind to its index class,
and `MultiIndex`, one index per signal type present, addressed by (signal type, value).

`redress.hashing` names the kind (`SignalType.index_kind`) and the default threshold; this module
is the only place a kind becomes a class, so a new signal type needs no dispatch anywhere else.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

from redress.hashing.signal_types import IndexKind, SignalType, get_signal_type
from redress.matching.exact_index import ExactIndex
from redress.matching.pdq_index import PdqIndex
from redress.matching.protocol import Hit, SignalIndex
from redress.matching.vpdq_index import VpdqHit, VpdqIndex

INDEX_CLASSES: dict[IndexKind, Callable[[], SignalIndex]] = {
    IndexKind.EXACT: ExactIndex,
    IndexKind.HAMMING: PdqIndex,
    IndexKind.VIDEO: VpdqIndex,
}


def new_index(signal_type: SignalType | str) -> SignalIndex:
    """An empty index of the kind `signal_type` names (its defaults: threshold, merge policy).

    Raises `InvalidSignalError` for a signal type name that is not registered."""
    kind = signal_type if isinstance(signal_type, SignalType) else get_signal_type(signal_type)
    return INDEX_CLASSES[kind.index_kind]()


@dataclass(frozen=True, slots=True)
class SignalHit:
    """A hit of a `MultiIndex` query: the signal type, and the index's own hit (a `PdqHit`,
    a plain `Hit` for digests, a `VpdqHit` with the shares and segments for videos)."""

    type: str
    hit: Hit

    @property
    def id(self) -> int:
        """The id within the type's index."""
        return self.hit.id

    @property
    def distance(self) -> int | None:
        """Hamming bits for PDQ, 0 for a digest, None for a video."""
        return self.hit.distance


def _best_first(hit: Hit) -> tuple[float, int]:
    """Sort key: smallest distance, or for a video the largest share, then the id."""
    if isinstance(hit, VpdqHit):
        return (-hit.similarity, hit.id)
    return (hit.distance or 0, hit.id)


class MultiIndex:
    """One `SignalIndex` per signal type present, each made by `new_index` on first use (or
    given to the constructor, e.g. with non-default settings). Not locked: callers that share
    one between threads hold their own lock, as they did for the separate indexes."""

    def __init__(self, indexes: Mapping[str, SignalIndex] | None = None) -> None:
        self._indexes: dict[str, SignalIndex] = {}
        for name, index in (indexes or {}).items():
            self._indexes[get_signal_type(name).name] = index

    def __len__(self) -> int:
        """Live entries over every type."""
        return sum(len(index) for index in self._indexes.values())

    def __contains__(self, signal_type: object) -> bool:
        """Whether an index exists for this signal type name."""
        return signal_type in self._indexes

    @property
    def types(self) -> set[str]:
        """The signal types with at least one live entry."""
        return {name for name, index in self._indexes.items() if len(index)}

    def counts(self) -> dict[str, int]:
        """Live entries per signal type that has an index."""
        return {name: len(index) for name, index in self._indexes.items()}

    def index(self, signal_type: str) -> SignalIndex:
        """The index of `signal_type`, made empty if it has none yet."""
        index = self._indexes.get(signal_type)
        if index is None:
            name = get_signal_type(signal_type).name
            index = self._indexes.get(name)
            if index is None:
                index = self._indexes[name] = new_index(name)
        return index

    def add(self, signal_type: str, values: Sequence[str]) -> range:
        """Add normalised values of one type; returns their ids in that type's index."""
        return self.index(signal_type).add(values)

    def remove(self, signal_type: str, ids: Iterable[int]) -> int:
        """Remove ids from one type's index; returns how many were live."""
        index = self._indexes.get(signal_type)
        return 0 if index is None else index.remove(ids)

    def query(
        self, signal_type: str, value: str, threshold: float | None = None
    ) -> list[SignalHit]:
        """Live entries of `signal_type` matching `value` at `threshold` (the type's default if
        None), best first. A known type with no index yet has no hits; an unknown one raises
        `InvalidSignalError`."""
        index = self._indexes.get(signal_type)
        if index is None:
            get_signal_type(signal_type)
            return []
        return [SignalHit(signal_type, hit) for hit in index.query(value, threshold)]

    def query_group(
        self, signal_type: str, values: Sequence[str], threshold: float | None = None
    ) -> list[SignalHit]:
        """Live entries matching any of `values`, views of one piece of content (e.g. a
        picture's 8 orientations): each entry once, at its best, best first."""
        index = self._indexes.get(signal_type)
        if index is None:
            get_signal_type(signal_type)
            return []
        if isinstance(index, PdqIndex):  # one pass of the compiled search for every view
            return [SignalHit(signal_type, hit) for hit in index.query_group(values, threshold)]
        best: dict[int, Hit] = {}
        for value in values:
            for hit in index.query(value, threshold):
                known = best.get(hit.id)
                if known is None or _best_first(hit) < _best_first(known):
                    best[hit.id] = hit
        return [SignalHit(signal_type, hit) for hit in sorted(best.values(), key=_best_first)]
