"""`HashListMatcher`: every index a hash list needs, behind one call that takes query signals.

PDQ queries may come with their dihedral variants; a list entry matched by several of them is
reported once, at its smallest distance, with the variant that got there.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from redress.hashing.files import SignalRecord
from redress.hashing.signal_types import PdqSignal, VpdqSignal
from redress.matching.exact_index import ExactIndex
from redress.matching.hashlist import HashListEntry
from redress.matching.pdq_index import PdqIndex


@dataclass(frozen=True, slots=True)
class Match:
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
        self._pdq_entries = [e for e in entries if e.type == "pdq"]
        self._pdq = PdqIndex()
        self._pdq.add([e.value for e in self._pdq_entries])
        self._exact: dict[str, tuple[list[HashListEntry], ExactIndex]] = {}
        for kind in ("md5", "sha256"):
            listed = [e for e in entries if e.type == kind]
            index = ExactIndex()
            index.add([e.value for e in listed])
            self._exact[kind] = (listed, index)
        self._vpdq = [(e, VpdqSignal().parse(e.value)) for e in entries if e.type == "vpdq"]

    @property
    def types(self) -> set[str]:
        """The signal types present in the list (what a query file is worth hashing for)."""
        present = {kind for kind, (listed, _) in self._exact.items() if listed}
        if self._pdq_entries:
            present.add("pdq")
        if self._vpdq:
            present.add("vpdq")
        return present

    def match(self, signals: Sequence[SignalRecord]) -> list[Match]:
        """Every list entry matched by any of `signals`, closest first within each type."""
        matches: list[Match] = []
        pdq = [s for s in signals if s.type == "pdq"]
        if pdq:
            matches.extend(self._match_pdq(pdq))
        for signal in signals:
            if signal.type in self._exact:
                listed, index = self._exact[signal.type]
                matches.extend(Match(listed[i], signal.type, 0) for i in index.search(signal.value))
        videos = [s for s in signals if s.type == "vpdq"]
        if videos and self._vpdq:
            matches.extend(self._match_vpdq(videos))
        return matches

    def _match_pdq(self, signals: Sequence[SignalRecord]) -> list[Match]:
        best: dict[int, tuple[int, str | None]] = {}
        hits = self._pdq.search([s.value for s in signals], self.pdq_threshold)
        for signal, signal_hits in zip(signals, hits, strict=True):
            for hit in signal_hits:
                known = best.get(hit.id)
                if known is None or hit.distance < known[0]:
                    best[hit.id] = (hit.distance, signal.variant)
        ordered = sorted(best.items(), key=lambda item: (item[1][0], item[0]))
        return [
            Match(self._pdq_entries[i], "pdq", distance, variant)
            for i, (distance, variant) in ordered
        ]

    def _match_vpdq(self, signals: Sequence[SignalRecord]) -> list[Match]:
        """Each listed video once, at the best of the query's views (phases, trimmed bars)."""
        vpdq = VpdqSignal()
        views = [(signal.variant, vpdq.parse(signal.value)) for signal in signals]
        found = []
        for entry, frames in self._vpdq:
            best: tuple[float, str | None, float, float] | None = None
            for variant, query in views:
                result = vpdq.compare(query, frames, frame_threshold=self.pdq_threshold)
                score = min(result.query_match_percent, result.target_match_percent)
                if score >= self.vpdq_match_percent and (best is None or score > best[0]):
                    best = (
                        score,
                        variant,
                        result.query_match_percent,
                        result.target_match_percent,
                    )
            if best is not None:
                found.append(
                    Match(
                        entry,
                        "vpdq",
                        None,
                        query_variant=best[1],
                        query_match_percent=round(best[2], 1),
                        matched_match_percent=round(best[3], 1),
                    )
                )
        return found
