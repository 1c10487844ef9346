"""`VpdqIndex`: video matching the vPDQ way, without comparing every frame of every video.

Every trusted frame (quality >= `quality_threshold`) of every indexed video goes into one FAISS
binary index. A query's trusted frames are range-searched there once (the prefilter); only the
videos that own a frame within `frame_threshold` are scored, by vpdq's rule: the share of the
query's trusted frames with a match in the video, and the share of the video's trusted frames
with a match in the query. A video matches when both reach their percentages (80 % by default).
The frames that matched are returned as time ranges (segments) on both sides.

In the index protocol a value is a whole video's canonical vPDQ text and the threshold of
`query` is the match percentage both shares must reach.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import faiss
import numpy as np

from redress.hashing.signal_types import VpdqFrame, VpdqSignal
from redress.matching.pdq_index import pdq_hex_to_bytes
from redress.matching.protocol import Hit

Segment = tuple[float, float]


@dataclass(frozen=True, slots=True, kw_only=True)
class VpdqHit(Hit):
    """An indexed video that matched a query video: how much of each the other covers (in
    percent, to one decimal), and where. Its `distance` is None: a video's match is a share of
    frames, not a distance; `similarity` is the smaller share, unrounded, for comparing hits."""

    distance: None = None
    query_match_percent: float
    target_match_percent: float
    similarity: float
    segments: list[Segment]
    query_segments: list[Segment]


def segments(timestamps: Sequence[float], gap: float) -> list[Segment]:
    """Sorted timestamps merged into (start, end) ranges wherever consecutive ones are <= gap."""
    ranges: list[Segment] = []
    for stamp in sorted(timestamps):
        if ranges and stamp - ranges[-1][1] <= gap:
            ranges[-1] = (ranges[-1][0], stamp)
        else:
            ranges.append((stamp, stamp))
    return ranges


def _gap(stamps: np.ndarray) -> float:
    """What counts as consecutive: 1.5 sampling intervals (at least a second apart is allowed)."""
    if len(stamps) < 2:
        return 1.0
    steps = np.diff(np.sort(stamps))
    steps = steps[steps > 0]
    return max(1.0, 1.5 * float(np.median(steps))) if len(steps) else 1.0


class VpdqIndex:
    """Indexed videos, searched with a query video's frames."""

    def __init__(
        self,
        *,
        frame_threshold: int = VpdqSignal.frame_threshold,
        quality_threshold: int = VpdqSignal.quality_threshold,
        query_match_percent: float = VpdqSignal.match_percent,
        target_match_percent: float = VpdqSignal.match_percent,
    ) -> None:
        self.frame_threshold = frame_threshold
        self.quality_threshold = quality_threshold
        self.query_match_percent = query_match_percent
        self.target_match_percent = target_match_percent
        self._frames = faiss.IndexBinaryFlat(256)
        self._codes: list[np.ndarray] = []  # frame bytes, kept to rebuild without dead frames
        self._frame_video: list[int] = []  # frame row -> video id
        self._frame_stamp: list[float] = []
        self._video_frames: list[int] = []  # video id -> trusted frame count (0 if removed)
        self._video_stamps: list[np.ndarray] = []
        self._dead_frames = 0

    def __len__(self) -> int:
        """Live indexed videos."""
        return sum(1 for count in self._video_frames if count)

    @property
    def frame_count(self) -> int:
        """Trusted frames held for live videos."""
        return len(self._frame_video) - self._dead_frames

    def _trusted(self, frames: Sequence[VpdqFrame]) -> list[VpdqFrame]:
        return [frame for frame in frames if frame.quality >= self.quality_threshold]

    def add(self, values: Sequence[str]) -> range:
        """Index videos given as canonical vPDQ text; returns their ids."""
        parse = VpdqSignal().parse
        start = len(self._video_frames)
        for value in values:
            self.add_frames(parse(value))
        return range(start, len(self._video_frames))

    def add_frames(self, frames: Sequence[VpdqFrame]) -> int:
        """Index one video's frames; returns its id. A video with no trusted frame never matches."""
        trusted = self._trusted(frames)
        video = len(self._video_frames)
        self._video_frames.append(len(trusted))
        self._video_stamps.append(np.array([f.timestamp for f in trusted], dtype=np.float64))
        if trusted:
            codes = pdq_hex_to_bytes([f.pdq for f in trusted])
            self._frames.add(codes)
            self._codes.append(codes)
            self._frame_video.extend([video] * len(trusted))
            self._frame_stamp.extend(f.timestamp for f in trusted)
        return video

    def remove(self, ids: Iterable[int]) -> int:
        """Stop matching these videos; their frames are dropped when enough have piled up."""
        removed = 0
        for video in ids:
            if 0 <= video < len(self._video_frames) and self._video_frames[video]:
                self._dead_frames += self._video_frames[video]
                self._video_frames[video] = 0
                removed += 1
        if self._dead_frames > max(1024, len(self._frame_video) // 4):
            self._compact()
        return removed

    def _compact(self) -> None:
        keep = np.array([self._video_frames[v] > 0 for v in self._frame_video], dtype=bool)
        rows = np.flatnonzero(keep)
        frames = faiss.IndexBinaryFlat(256)
        codes = np.concatenate(self._codes)[rows] if len(rows) else np.zeros((0, 32), np.uint8)
        if len(rows):
            frames.add(np.ascontiguousarray(codes))
        self._frames = frames
        self._codes = [codes]
        self._frame_video = [self._frame_video[r] for r in rows]
        self._frame_stamp = [self._frame_stamp[r] for r in rows]
        self._dead_frames = 0

    def query(self, value: str, threshold: float | None = None) -> list[VpdqHit]:
        """Indexed videos matching one video given as vPDQ text, where both shares reach
        `threshold` percent (the index's own percentages if None); best first."""
        frames = VpdqSignal().parse(value)
        if threshold is None:
            return self.search(frames)
        return self.search(frames, query_match_percent=threshold, target_match_percent=threshold)

    def search(
        self,
        frames: Sequence[VpdqFrame],
        *,
        query_match_percent: float | None = None,
        target_match_percent: float | None = None,
    ) -> list[VpdqHit]:
        """Indexed videos matching the query video, best (smallest of the two shares) first.

        A share is computed as `VpdqSignal.compare` computes it, so the index and the
        frame-by-frame comparison agree to the last bit."""
        need_query = (
            self.query_match_percent if query_match_percent is None else query_match_percent
        )
        need_target = (
            self.target_match_percent if target_match_percent is None else target_match_percent
        )
        query = self._trusted(frames)
        if not query or self._frames.ntotal == 0:
            return []
        limits, _, rows = self._frames.range_search(
            pdq_hex_to_bytes([f.pdq for f in query]), self.frame_threshold + 1
        )
        frame_video = np.asarray(self._frame_video, dtype=np.int64)
        frame_stamp = np.asarray(self._frame_stamp, dtype=np.float64)
        query_of_hit = np.repeat(np.arange(len(query)), np.diff(limits).astype(np.int64))
        video_of_hit = frame_video[rows]
        query_stamps = np.array([f.timestamp for f in query], dtype=np.float64)
        matches = []
        for video in np.unique(video_of_hit).tolist():
            total = self._video_frames[video]
            if not total:
                continue
            mine = video_of_hit == video
            query_hits = np.unique(query_of_hit[mine])
            target_rows = np.unique(rows[mine])
            query_percent = 100.0 * (len(query_hits) / len(query))
            target_percent = 100.0 * (len(target_rows) / total)
            if query_percent < need_query or target_percent < need_target:
                continue
            target_stamps = frame_stamp[target_rows]
            matches.append(
                VpdqHit(
                    id=video,
                    query_match_percent=round(query_percent, 1),
                    target_match_percent=round(target_percent, 1),
                    similarity=min(query_percent, target_percent),
                    segments=segments(target_stamps.tolist(), _gap(self._video_stamps[video])),
                    query_segments=segments(query_stamps[query_hits].tolist(), _gap(query_stamps)),
                )
            )
        matches.sort(key=lambda m: (-min(m.query_match_percent, m.target_match_percent), m.id))
        return matches
