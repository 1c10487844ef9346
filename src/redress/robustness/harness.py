"""Evaluate a method (how a bank is hashed from originals, how a query is hashed from a copy)
over a corpus and a set of edits: recall per edit, false matches between distinct images, the
safety margin, and false matches against Meta's haystack of unrelated hashes.

Both sides go through files on disk and the same library calls the CLI makes, so what is
measured is what `redress hash` and `redress match` do.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from redress.hashing.files import HashOptions, hash_file
from redress.hashing.signal_types import PdqSignal, pairwise_hamming
from redress.matching.pdq_index import pdq_hex_to_bytes
from redress.robustness.corpus import CorpusImage
from redress.robustness.edits import EDITS, Edit, save_edited


class Method(Protocol):
    """A way of hashing the bank (from originals) and queries (from copies)."""

    name: str

    def bank(self, path: Path) -> list[str]:
        """PDQ hashes a bank holds for the original at `path`."""
        ...

    def query(self, path: Path) -> list[str]:
        """PDQ hashes compared against the bank for the copy at `path`."""
        ...


def _pdq_values(path: Path, options: HashOptions) -> list[str]:
    result = hash_file(path, options)
    if result.error is not None:
        raise RuntimeError(f"{path}: {result.error.message}")
    return [s.value for s in result.signals if s.type == PdqSignal.name]


class PlainPdq:
    """Plain PDQ on both sides: one hash per image, as StopNCII partners and HMA use it."""

    name = "plain PDQ"

    def bank(self, path: Path) -> list[str]:
        """The image's PDQ."""
        return _pdq_values(path, HashOptions(types=(PdqSignal.name,)))

    def query(self, path: Path) -> list[str]:
        """The copy's PDQ."""
        return _pdq_values(path, HashOptions(types=(PdqSignal.name,)))


class RedressMatch:
    """What Redress does: the bank holds what `redress hash --variants` prints for the original,
    and each copy is hashed as `redress match` hashes a query (orientations, trimmed borders,
    crops)."""

    name = "redress"

    def bank(self, path: Path) -> list[str]:
        """Signals `redress hash --variants` gives the original."""
        return _pdq_values(path, HashOptions(types=(PdqSignal.name,), variants=True))

    def query(self, path: Path) -> list[str]:
        """Hashes `redress match` compares for the copy."""
        return _pdq_values(path, HashOptions(types=(PdqSignal.name,), query_variants=True))


METHODS: dict[str, Method] = {"plain": PlainPdq(), "redress": RedressMatch()}


@dataclass(slots=True)
class RobustnessReport:
    """The outcome for one method; `as_dict` is what the JSON file holds."""

    method: str
    threshold: int
    images: int
    recall: dict[str, float]
    overall_recall: float
    false_matches: int
    distinct_pairs: int
    margin: dict[str, float]
    haystack_false_matches: int
    haystack_size: int
    bank_hashes_per_image: float
    query_hashes_per_copy: float
    query_ms: float
    misses: dict[str, list[str]] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """Plain data for JSON."""
        return asdict(self)


def prepare_copies(
    corpus: Sequence[CorpusImage], edits: Sequence[Edit], folder: Path
) -> tuple[list[Path], dict[str, list[Path]]]:
    """Write each original (PNG) and each edited copy under `folder`; returns their paths."""
    originals = []
    copies: dict[str, list[Path]] = {edit.name: [] for edit in edits}
    (folder / "original").mkdir(parents=True, exist_ok=True)
    for index, item in enumerate(corpus):
        original = folder / "original" / f"{index:03d}.png"
        item.image.save(original, compress_level=1)
        originals.append(original)
        for edit in edits:
            (folder / edit.name).mkdir(exist_ok=True)
            copies[edit.name].append(
                Path(save_edited(item.image, edit, str(folder / edit.name / f"{index:03d}")))
            )
    return originals, copies


def evaluate(
    method: Method,
    corpus: Sequence[CorpusImage],
    originals: Sequence[Path],
    copies: dict[str, list[Path]],
    *,
    threshold: int = PdqSignal.default_threshold,
    haystack: Sequence[str] = (),
) -> RobustnessReport:
    """Recall per edit and false matches for `method` over prepared originals and copies."""
    bank_rows: list[str] = []
    bank_owner: list[int] = []
    for owner, path in enumerate(originals):
        hashes = method.bank(path)
        bank_rows.extend(hashes)
        bank_owner.extend([owner] * len(hashes))
    bank = pdq_hex_to_bytes(bank_rows)
    owners = np.array(bank_owner)
    images = len(originals)

    recall: dict[str, float] = {}
    misses: dict[str, list[str]] = {}
    nearest_other: list[int] = []
    false_matches = query_hashes = queries = 0
    query_seconds = 0.0
    all_query_rows: list[str] = []
    for edit_name, paths in copies.items():
        hits = 0
        for owner, path in enumerate(paths):
            started = time.perf_counter()
            rows = method.query(path)
            query_seconds += time.perf_counter() - started
            queries += 1
            query_hashes += len(rows)
            all_query_rows.extend(rows)
            distances = pairwise_hamming(pdq_hex_to_bytes(rows), bank).min(axis=0)
            per_image = np.full(images, 257)
            np.minimum.at(per_image, owners, distances)
            if per_image[owner] <= threshold:
                hits += 1
            else:
                misses.setdefault(edit_name, []).append(corpus[owner].id)
            others = np.delete(per_image, owner)
            false_matches += int((others <= threshold).sum())
            nearest_other.append(int(others.min()))
        recall[edit_name] = hits / len(paths) if paths else 0.0

    haystack_hits = 0
    if haystack:
        hay = pdq_hex_to_bytes(list(haystack))
        for rows in (bank_rows, all_query_rows):
            if rows:
                haystack_hits += int(
                    (pairwise_hamming(pdq_hex_to_bytes(rows), hay) <= threshold).sum()
                )
    ordered = sorted(nearest_other)
    margin = {
        "min": float(ordered[0]),
        "p1": float(ordered[max(0, len(ordered) // 100 - 1)]),
        "p5": float(ordered[max(0, len(ordered) // 20 - 1)]),
        "median": float(statistics.median(ordered)),
    }
    return RobustnessReport(
        method=method.name,
        threshold=threshold,
        images=images,
        recall=recall,
        overall_recall=statistics.fmean(recall.values()),
        false_matches=false_matches,
        distinct_pairs=queries * (images - 1),
        margin=margin,
        haystack_false_matches=haystack_hits,
        haystack_size=len(haystack),
        bank_hashes_per_image=len(bank_rows) / images,
        query_hashes_per_copy=query_hashes / max(1, queries),
        query_ms=1000 * query_seconds / max(1, queries),
        misses=misses,
    )


def run_harness(
    corpus: Sequence[CorpusImage],
    methods: Sequence[Method],
    *,
    edits: Sequence[Edit] = tuple(EDITS.values()),
    threshold: int = PdqSignal.default_threshold,
    haystack: Sequence[str] = (),
) -> list[RobustnessReport]:
    """Prepare the copies once in a temporary folder and evaluate every method on them."""
    with tempfile.TemporaryDirectory(prefix="redress-robustness-") as tmp:
        originals, copies = prepare_copies(corpus, edits, Path(tmp))
        return [
            evaluate(method, corpus, originals, copies, threshold=threshold, haystack=haystack)
            for method in methods
        ]
