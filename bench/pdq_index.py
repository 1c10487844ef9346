"""PdqIndex vs FAISS brute force (IndexBinaryFlat) vs FAISS multi-index hashing in HMA's shape
(IndexBinaryMultiHash, 16 tables of 16 bits, nflip 1), side by side, one thread, radius 31.

Real hashes: Meta's 1,350 haystack hashes, the reference photos in their 8 orientations and the
frames of the reference vPDQ hashes. Two bank shapes, each half uniformly random and half
*clustered*:

- `bank`: groups of 1-16 near-duplicates (0-16 bits from the group's centre, as re-uploads,
  edits and Redress's variants are), the centres made from real hashes by flipping 48-80 bits
  (so they keep the real hashes' bit biases);
- `dense` (a stress test): real hashes with 20-70 bits flipped, i.e. millions of hashes crowded
  within 70 bits of a few thousand points, far denser than a bank of distinct pictures.

Queries: half bank members with up to 16 bits flipped (hits), half new clustered hashes made
the same way as the bank's (mostly misses).

    python bench/pdq_index.py [SIZE ...] [--shape bank|dense]   (default: 1000000 10000000, bank)
    python bench/pdq_index.py --quick   (200,000 hashes, figures printed, not saved: a before/after
                                         check that takes well under a minute)
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import faiss
import numpy as np
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench._common import reference_dir, write_result

from redress.hashing.files import HashOptions, hash_file
from redress.matching import PdqIndex

RADIUS = 31
QUERIES = 2000
QUICK_SIZE = 200_000


def real_hashes() -> np.ndarray:
    photos = sorted(
        p
        for p in (reference_dir() / "pdq").rglob("*")
        if p.suffix.lower() in {".jpg", ".jpeg", ".png"}
    )
    values = []
    for photo in photos:
        values += [s.value for s in hash_file(photo, HashOptions(dihedral=True)).signals]
    return np.frombuffer(bytes.fromhex("".join(values)), dtype=np.uint8).reshape(-1, 32)


def flipped(rows: np.ndarray, low: int, high: int, rng: np.random.Generator) -> np.ndarray:
    """Each row with between `low` and `high` random bits flipped."""
    out = np.empty_like(rows)
    for start in range(0, len(rows), 200_000):
        chunk = rows[start : start + 200_000]
        share = rng.integers(low, high + 1, len(chunk)).astype(np.float32) / 256
        mask = rng.random((len(chunk), 256), dtype=np.float32) < share[:, None]
        out[start : start + len(chunk)] = chunk ^ np.packbits(mask, axis=1)
    return out


def clustered(count: int, real: np.ndarray, shape: str, rng: np.random.Generator) -> np.ndarray:
    if shape == "dense":
        return flipped(real[rng.integers(0, len(real), count)], 20, 70, rng)
    sizes = rng.integers(1, 17, count // 8 + 1)
    centres = flipped(real[rng.integers(0, len(real), len(sizes))], 48, 80, rng)
    owner = np.repeat(np.arange(len(sizes)), sizes)[:count]
    return flipped(centres[owner], 0, 16, rng)


def make_bank(size: int, real: np.ndarray, shape: str, rng: np.random.Generator) -> np.ndarray:
    bank = clustered(size // 2, real, shape, rng)
    randoms = rng.integers(0, 256, (size - len(bank), 32), dtype=np.uint8)
    return np.concatenate((bank, randoms))


def rss() -> int:
    return int(psutil.Process().memory_info().rss)


def timed_queries(search: object, queries: np.ndarray, batch: int) -> float:
    started = time.perf_counter()
    for start in range(0, len(queries), batch):
        search(queries[start : start + batch])  # type: ignore[operator]
    return len(queries) / (time.perf_counter() - started)


def run(size: int, real: np.ndarray, shape: str) -> dict[str, object]:
    rng = np.random.default_rng(size)
    bank = make_bank(size, real, shape, rng)
    hits = flipped(bank[rng.integers(0, size, QUERIES // 2)], 0, 16, rng)
    misses = clustered(QUERIES - len(hits), real, shape, rng)
    queries = np.concatenate((hits, misses))
    figures: dict[str, object] = {"size": size, "shape": shape, "real_hashes": len(real)}

    before = rss()
    started = time.perf_counter()
    index = PdqIndex(background=False)
    index.add_bytes(bank)
    index.merge()
    figures["redress_build_s"] = round(time.perf_counter() - started, 2)
    figures["redress_rss_bytes_per_hash"] = round((rss() - before) / size, 1)
    figures["redress_index_bytes_per_hash"] = round(index.memory_bytes() / size, 1)
    from redress.matching.pdq_index import bytes_to_words

    query_words = bytes_to_words(queries)

    def redress_search(rows: np.ndarray) -> object:
        return index.search_arrays(rows, np.arange(len(rows)), RADIUS)

    redress_search(query_words[:10])  # compile outside the timing
    figures["redress_qps_batch1"] = round(timed_queries(redress_search, query_words[:500], 1))
    figures["redress_qps_batch64"] = round(timed_queries(redress_search, query_words, 64))
    if hasattr(index, "query"):  # the index protocol's one-value call (absent before it existed)
        query_hexes = [row.tobytes().hex() for row in queries[:500]]

        def protocol_query(values: list[str]) -> object:
            return [index.query(value, RADIUS) for value in values]

        figures["redress_qps_protocol_query"] = round(timed_queries(protocol_query, query_hexes, 1))

    faiss.omp_set_num_threads(1)
    flat = faiss.IndexBinaryFlat(256)
    flat.add(bank)
    sample = queries[:: max(1, QUERIES // (200 if size > 2_000_000 else 1000))]
    started = time.perf_counter()
    limits, _, ids = flat.range_search(sample, RADIUS + 1)
    figures["faiss_flat_qps"] = round(len(sample) / (time.perf_counter() - started))

    # Recall against brute force on the sample (must be 100 %).
    groups, found, _ = index.search_arrays(bytes_to_words(sample), np.arange(len(sample)), RADIUS)
    expected = {(q, int(i)) for q in range(len(sample)) for i in ids[limits[q] : limits[q + 1]]}
    got = set(zip(groups.tolist(), found.tolist(), strict=True))
    figures["true_matches_in_sample"] = len(expected)
    figures["recall_percent"] = round(100 * len(expected & got) / max(1, len(expected)), 3)
    figures["false_matches"] = len(got - expected)
    del flat

    started = time.perf_counter()
    multi = faiss.IndexBinaryMultiHash(256, 16, 16)
    multi.nflip = 1
    multi.add(bank)
    figures["faiss_multihash_build_s"] = round(time.perf_counter() - started, 2)
    small = queries[:: max(1, QUERIES // 200)]
    started = time.perf_counter()
    multi.range_search(small, RADIUS + 1)
    figures["faiss_multihash_qps"] = round(len(small) / (time.perf_counter() - started))
    del multi
    figures["speedup_vs_flat"] = round(
        int(figures["redress_qps_batch64"]) / int(figures["faiss_flat_qps"]),
        1,  # type: ignore[call-overload]
    )
    figures["speedup_vs_multihash"] = round(
        int(figures["redress_qps_batch64"]) / int(figures["faiss_multihash_qps"]),
        1,  # type: ignore[call-overload]
    )
    return figures


def main() -> None:
    args = sys.argv[1:]
    quick = "--quick" in args
    if quick:
        args.remove("--quick")
        args = args or [str(QUICK_SIZE)]
    shape = "bank"
    if "--shape" in args:
        at = args.index("--shape")
        shape = args[at + 1]
        del args[at : at + 2]
    sizes = [int(arg) for arg in args] or [1_000_000, 10_000_000]
    real = real_hashes()
    results = []
    for size in sizes:
        figures = run(size, real, shape)
        results.append(figures)
        print(f"--- {size:,} hashes, radius {RADIUS}, one thread ---")
        for name, value in figures.items():
            print(f"  {name:32} {value}")
    if quick:
        return
    name = "pdq_index" if shape == "bank" else f"pdq_index_{shape}"
    print(f"saved {write_result(name, {'radius': RADIUS, 'results': results})}")


if __name__ == "__main__":
    main()
