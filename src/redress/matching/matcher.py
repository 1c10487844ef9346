"""`HashListMatcher`: a hash list in a `MultiIndex`, behind one call that takes query signals.

PDQ queries may come with their dihedral variants, vPDQ queries with their views (phases,
trimmed bars); a list entry matched by several of them is reported once, at its best, with the
variant that got there.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from redress.hashing.files import SignalRecord
from redress.hashing.signal_types import IndexKind, PdqSignal, VpdqSignal, get_signal_type
from redress.matching.hashlist import HashListEntry
from redress.matching.multi import MultiIndex
from redress.matching.vpdq_index import VpdqHit, VpdqIndex


@dataclass(frozen=True, slots=True)
class HashListMatch:
    """A list entry that matched a query signal."""

    entry: HashListEntry
    type: str
    distance: int | None
    query_variant: str | None = None
    query_match_percent: float | None = None
    matched_match_percent: float | None = None


class HashListMatcher:
    """Indexes a hash list by signal type and matches query signals against it."""

    def __init__(
        self,
        entries: Sequence[HashListEntry],
        *,
        pdq_threshold: int = PdqSignal.default_threshold,
        vpdq_match_percent: float = VpdqSignal.match_percent,
    ) -> None:
        self.pdq_threshold = pdq_threshold
        self.vpdq_match_percent = vpdq_match_percent
        # A video's frames are compared at the PDQ threshold, as `redress match --threshold` says.
        self._index = MultiIndex(
            {
                VpdqSignal.name: VpdqIndex(
                    frame_threshold=pdq_threshold,
                    query_match_percent=vpdq_match_percent,
                    target_match_percent=vpdq_match_percent,
                )
            }
        )
        self._entries: dict[str, list[HashListEntry]] = {}
        by_type: dict[str, list[HashListEntry]] = {}
        for entry in entries:
            by_type.setdefault(entry.type, []).append(entry)
        for kind, listed in by_type.items():
            self._index.add(kind, [entry.value for entry in listed])
            self._entries[kind] = listed  # an entry's id in its type's index is its position

    @property
    def types(self) -> set[str]:
        """The signal types present in the list (what a query file is worth hashing for)."""
        return set(self._entries)

    def match(self, signals: Sequence[SignalRecord]) -> list[HashListMatch]:
        """Every list entry matched by any of `signals`: Hamming types (PDQ) first, closest
        first; then digests, in query order; then videos, in list order."""
        by_type: dict[str, list[SignalRecord]] = {}
        for signal in signals:
            if signal.type in self._entries:
                by_type.setdefault(signal.type, []).append(signal)
        matches: list[HashListMatch] = []
        for kind in (IndexKind.HAMMING, IndexKind.EXACT, IndexKind.VIDEO):
            if kind is IndexKind.EXACT:
                matches.extend(self._match_exact(signals))
                continue
            for name, views in by_type.items():
                if get_signal_type(name).index_kind is kind:
                    matches.extend(self._match_views(name, views))
        return matches

    def _match_exact(self, signals: Sequence[SignalRecord]) -> list[HashListMatch]:
        found = []
        for signal in signals:
            listed = self._entries.get(signal.type)
            if listed and get_signal_type(signal.type).index_kind is IndexKind.EXACT:
                for hit in self._index.query(signal.type, signal.value):
                    found.append(HashListMatch(listed[hit.id], signal.type, 0))
        return found

    def _match_views(self, kind: str, views: Sequence[SignalRecord]) -> list[HashListMatch]:
        """Each entry once, at the best of the query's views (the first view on a tie)."""
        hamming = get_signal_type(kind).index_kind is IndexKind.HAMMING
        threshold = self.pdq_threshold if hamming else None
        best: dict[int, tuple[tuple[float, int], SignalRecord, VpdqHit | None]] = {}
        for view in views:
            for found in self._index.query(kind, view.value, threshold):
                hit = found.hit
                video = hit if isinstance(hit, VpdqHit) else None
                # Smaller is better: the distance, or a video's (negated) smaller share.
                score = -video.similarity if video else float(hit.distance or 0)
                known = best.get(hit.id)
                if known is None or score < known[0][0]:
                    best[hit.id] = ((score, hit.id), view, video)
        listed = self._entries[kind]
        # Pictures closest first; videos in list order (as the hash list has them).
        order = sorted(best.values(), key=lambda b: b[0] if b[2] is None else (0.0, b[0][1]))
        matches = []
        for (score, id_), view, video in order:
            if video is None:
                matches.append(HashListMatch(listed[id_], kind, int(score), view.variant))
            else:
                matches.append(
                    HashListMatch(
                        listed[id_],
                        kind,
                        None,
                        query_variant=view.variant,
                        query_match_percent=video.query_match_percent,
                        matched_match_percent=video.target_match_percent,
                    )
                )
        return matches
