"""Matching: indexes over hash values and hash lists. A plain library (no web, no database)."""

from redress.matching.exact_index import ExactIndex
from redress.matching.hashlist import HashListEntry, HashListProblem, read_hash_list
from redress.matching.matcher import HashListMatcher, Match
from redress.matching.pdq_index import IndexFormatError, PdqHit, PdqIndex
from redress.matching.vpdq_index import VpdqIndex, VpdqMatch

__all__ = [
    "ExactIndex",
    "HashListEntry",
    "HashListMatcher",
    "HashListProblem",
    "IndexFormatError",
    "Match",
    "PdqHit",
    "PdqIndex",
    "VpdqIndex",
    "VpdqMatch",
    "read_hash_list",
]
