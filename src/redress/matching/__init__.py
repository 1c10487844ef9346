"""Matching: indexes over hash values and hash lists. A plain library (no web, no database)."""

from redress.matching.exact_index import ExactIndex
from redress.matching.hashlist import HashListEntry, HashListProblem, read_hash_list
from redress.matching.matcher import HashListMatcher, Match
from redress.matching.pdq_index import PdqIndex

__all__ = [
    "ExactIndex",
    "HashListEntry",
    "HashListMatcher",
    "HashListProblem",
    "Match",
    "PdqIndex",
    "read_hash_list",
]
