"""`HashListMatcher` (a `MultiIndex`) against the obvious reference: every query signal compared
with every list entry by its signal type's own `matches`/`compare`, frame by frame for videos.
Same entries, same order, same distances, same variants, same percentages, to the last bit."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from redress.hashing.files import SignalRecord
from redress.hashing.signal_types import PdqSignal, VpdqFrame, VpdqSignal, hamming_distance
from redress.matching import HashListEntry, HashListMatch, HashListMatcher


def reference(
    entries: Sequence[HashListEntry],
    signals: Sequence[SignalRecord],
    threshold: int,
    percent: float,
) -> list[HashListMatch]:
    """Brute force: PDQ entries closest first (first variant on a tie), digests in query order,
    videos in list order at their best view (the first on a tie)."""
    found: list[HashListMatch] = []
    best: dict[int, tuple[int, str | None]] = {}
    for signal in (s for s in signals if s.type == "pdq"):
        for i, entry in enumerate(entries):
            if entry.type == "pdq":
                distance = hamming_distance(entry.value, signal.value)
                if distance <= threshold and (i not in best or distance < best[i][0]):
                    best[i] = (distance, signal.variant)
    for i, (distance, variant) in sorted(best.items(), key=lambda item: (item[1][0], item[0])):
        found.append(HashListMatch(entries[i], "pdq", distance, variant))
    for signal in signals:
        if signal.type in ("md5", "sha256"):
            found += [
                HashListMatch(e, signal.type, 0)
                for e in entries
                if e.type == signal.type and e.value == signal.value
            ]
    vpdq = VpdqSignal()
    views = [(s.variant, vpdq.parse(s.value)) for s in signals if s.type == "vpdq"]
    for entry in (e for e in entries if e.type == "vpdq"):
        top = None
        for variant, query in views:
            result = vpdq.compare(query, vpdq.parse(entry.value), frame_threshold=threshold)
            score = min(result.query_match_percent, result.target_match_percent)
            if score >= percent and (top is None or score > top[0]):
                top = (score, variant, result.query_match_percent, result.target_match_percent)
        if top is not None:
            found.append(
                HashListMatch(entry, "vpdq", None, top[1], round(top[2], 1), round(top[3], 1))
            )
    return found


def flip(value: str, rng: np.random.Generator, most: int) -> str:
    number = int(value, 16)
    for bit in rng.choice(256, int(rng.integers(0, most + 1)), replace=False):
        number ^= 1 << int(bit)
    return f"{number:064x}"


@settings(max_examples=30, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    threshold=st.sampled_from([8, 31, 40]),
    percent=st.sampled_from([20.0, 50.0, 80.0, 100.0]),
)
def test_matcher_equals_the_reference(seed: int, threshold: int, percent: float) -> None:
    rng = np.random.default_rng(seed)
    pdq = PdqSignal()
    scenes = [rng.bytes(32).hex() for _ in range(12)]
    entries: list[HashListEntry] = []
    for line in range(40):
        kind = str(rng.choice(["pdq", "pdq", "md5", "sha256", "vpdq"]))
        if kind == "pdq":
            value = pdq.normalise(flip(scenes[int(rng.integers(12))], rng, 40))
        elif kind == "vpdq":
            frames = [
                VpdqFrame(i, int(rng.choice([30, 100])), flip(scenes[s], rng, 12), float(i))
                for i, s in enumerate(rng.integers(0, 12, int(rng.integers(1, 12))).tolist())
            ]
            value = VpdqSignal().format(frames)
        else:
            value = rng.bytes(16 if kind == "md5" else 32).hex()
        entries.append(HashListEntry(kind, value, {"line": line}, line + 1))
    signals = [
        SignalRecord("pdq", flip(scenes[int(rng.integers(12))], rng, 30), variant=f"v{n}")
        for n in range(4)
    ]
    signals += [SignalRecord(e.type, e.value) for e in entries[:5] if e.type in ("md5", "sha256")]
    for n in range(3):  # three views of one query video, some sharing the listed scenes
        frames = [
            VpdqFrame(i, 100, flip(scenes[s], rng, 10), float(i))
            for i, s in enumerate(rng.integers(0, 12, int(rng.integers(1, 10))).tolist())
        ]
        signals.append(SignalRecord("vpdq", VpdqSignal().format(frames), variant=f"view{n}"))
    matcher = HashListMatcher(entries, pdq_threshold=threshold, vpdq_match_percent=percent)
    assert matcher.match(signals) == reference(entries, signals, threshold, percent)
    assert matcher.types == {e.type for e in entries}
