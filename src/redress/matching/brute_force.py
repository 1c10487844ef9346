"""Brute-force reference searches in plain NumPy: slow, obviously right, and what the property
tests hold every index to."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from redress.hashing.signal_types import VpdqFrame, VpdqSignal

_POPCOUNT = np.array([bin(i).count("1") for i in range(256)], dtype=np.uint16)


def pdq_radius_search(
    bank: np.ndarray, live: np.ndarray, queries: np.ndarray, threshold: int
) -> list[list[tuple[int, int]]]:
    """For each query row, (id, distance) of every live bank row within `threshold`, sorted by
    distance then id. Rows are (n, 32) uint8 hash bytes."""
    results = []
    for query in queries:
        distances = _POPCOUNT[np.bitwise_xor(bank, query)].sum(axis=1)
        hits = np.flatnonzero((distances <= threshold) & live)
        results.append(sorted((int(distances[i]), int(i)) for i in hits))
    return [[(i, d) for d, i in row] for row in results]


def vpdq_search(
    videos: Sequence[Sequence[VpdqFrame] | None],
    query: Sequence[VpdqFrame],
    *,
    frame_threshold: int = VpdqSignal.frame_threshold,
    quality_threshold: int = VpdqSignal.quality_threshold,
    query_match_percent: float = VpdqSignal.match_percent,
    target_match_percent: float = VpdqSignal.match_percent,
) -> dict[int, tuple[float, float]]:
    """Video id -> (query %, target %) for every video (None = removed) that matches `query`,
    each compared frame by frame with every other."""
    signal = VpdqSignal()
    found = {}
    for video, frames in enumerate(videos):
        if frames is None:
            continue
        result = signal.compare(
            query, frames, frame_threshold=frame_threshold, quality_threshold=quality_threshold
        )
        if (
            result.query_match_percent >= query_match_percent
            and result.target_match_percent >= target_match_percent
        ):
            found[video] = (
                round(result.query_match_percent, 1),
                round(result.target_match_percent, 1),
            )
    return found
