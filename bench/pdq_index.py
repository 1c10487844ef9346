"""PdqIndex vs FAISS brute force (IndexBinaryFlat) vs FAISS multi-index hashing in HMA's shape
(IndexBinaryMultiHash, 16 tables of 16 bits, nflip 1), side by side, one thread, radius 31.

The bank: half *clustered* hashes made from real PDQ hashes (the reference photos' 8
orientations each) by flipping 20-70 random bits (banks of similar pictures; the bits keep the
real hashes' biases), among which 1 in 8 is a near-duplicate (1-8 bits from its source, as
re-uploads and edits are); half uniformly random. Queries: half bank members with up to 16 bits
flipped (hits), half new clustered hashes (mostly misses).

    python bench/pdq_index.py [SIZE ...]     (default: 1000000 10000000)
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


def make_bank(size: int, real: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    clustered = size // 2
    sources = real[rng.integers(0, len(real), clustered)]
    bank = flipped(sources, 20, 70, rng)
    near = rng.random(clustered) < 1 / 8
    bank[near] = flipped(bank[np.flatnonzero(near) - 1], 1, 8, rng)
    randoms = rng.integers(0, 256, (size - clustered, 32), dtype=np.uint8)
    return np.concatenate((bank, randoms))


def rss() -> int:
    return int(psutil.Process().memory_info().rss)


def timed_queries(search: object, queries: np.ndarray, batch: int) -> float:
    started = time.perf_counter()
    for start in range(0, len(queries), batch):
        search(queries[start : start + batch])  # type: ignore[operator]
    return len(queries) / (time.perf_counter() - started)


def run(size: int, real: np.ndarray) -> dict[str, object]:
    rng = np.random.default_rng(size)
    bank = make_bank(size, real, rng)
    hits = flipped(bank[rng.integers(0, size, QUERIES // 2)], 0, 16, rng)
    misses = flipped(real[rng.integers(0, len(real), QUERIES - len(hits))], 20, 70, rng)
    queries = np.concatenate((hits, misses))
    figures: dict[str, object] = {"size": size}

    before = rss()
    started = time.perf_counter()
    index = PdqIndex(background=False)
    index.add_bytes(bank)
    index.merge()
    figures["redress_build_s"] = round(time.perf_counter() - started, 2)
    figures["redress_rss_bytes_per_hash"] = round((rss() - before) / size, 1)
    figures["redress_index_bytes_per_hash"] = round(index.memory_bytes() / size, 1)
    words = index  # noqa: F841 - keep alive for the measurement below
    from redress.matching.pdq_index import bytes_to_words

    query_words = bytes_to_words(queries)

    def redress_search(rows: np.ndarray) -> object:
        return index.search_arrays(rows, np.arange(len(rows)), RADIUS)

    redress_search(query_words[:10])  # compile outside the timing
    figures["redress_qps_batch1"] = round(timed_queries(redress_search, query_words[:500], 1))
    figures["redress_qps_batch64"] = round(timed_queries(redress_search, query_words, 64))

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
    sizes = [int(arg) for arg in sys.argv[1:]] or [1_000_000, 10_000_000]
    real = real_hashes()
    results = []
    for size in sizes:
        figures = run(size, real)
        results.append(figures)
        print(f"--- {size:,} hashes, radius {RADIUS}, one thread ---")
        for name, value in figures.items():
            print(f"  {name:32} {value}")
    print(f"saved {write_result('pdq_index', {'radius': RADIUS, 'results': results})}")


if __name__ == "__main__":
    main()
