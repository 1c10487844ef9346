"""Matching: one index protocol over signal values, the index of each kind, a multi-type index
driven by the signal types, and hash lists. A plain library (no web, no database)."""

from redress.matching.exact_index import ExactIndex
from redress.matching.hashlist import HashListEntry, HashListProblem, read_hash_list
from redress.matching.matcher import HashListMatch, HashListMatcher
from redress.matching.multi import INDEX_CLASSES, MultiIndex, SignalHit, new_index
from redress.matching.pdq_index import IndexFormatError, PdqHit, PdqIndex
from redress.matching.protocol import Hit, SignalIndex
from redress.matching.vpdq_index import VpdqHit, VpdqIndex

__all__ = [
    "INDEX_CLASSES",
    "ExactIndex",
    "HashListEntry",
    "HashListMatch",
    "HashListMatcher",
    "HashListProblem",
    "Hit",
    "IndexFormatError",
    "MultiIndex",
    "PdqHit",
    "PdqIndex",
    "SignalHit",
    "SignalIndex",
    "VpdqHit",
    "VpdqIndex",
    "new_index",
    "read_hash_list",
]
