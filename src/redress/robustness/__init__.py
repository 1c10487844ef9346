"""The robustness harness: how well a hashing-and-matching method finds edited copies of photos,
and how often it matches photos that are not copies. Used by `make bench` and by later work on
match quality."""

from redress.robustness.corpus import CorpusImage, load_corpus
from redress.robustness.edits import EDITS, UNSEEN_EDITS, Edit
from redress.robustness.harness import (
    METHODS,
    Method,
    PlainPdq,
    RedressMatch,
    RobustnessReport,
    evaluate,
)

__all__ = [
    "EDITS",
    "METHODS",
    "UNSEEN_EDITS",
    "CorpusImage",
    "Edit",
    "Method",
    "PlainPdq",
    "RedressMatch",
    "RobustnessReport",
    "evaluate",
    "load_corpus",
]
