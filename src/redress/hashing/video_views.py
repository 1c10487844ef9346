"""The per-frame work of vPDQ hashing: converting a decoded frame to RGB the way Meta's vpdq
does (swscale, bicubic with accurate rounding), and the extra views of a video a query is
hashed as (sampling phases, and the picture inside uniform bars found over the first frames)."""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import numpy as np
from av.filter import Graph

from redress.hashing.errors import ErrorCode, HashingError
from redress.hashing.images import MIN_SIDE
from redress.hashing.pdq import pdq_from_pixels
from redress.hashing.signal_types import VpdqFrame
from redress.hashing.variants import border_box, border_runs

_SCALER_FLAGS = "bicubic+accurate_rnd"

_TRIM_SAMPLE = 20
#: Long side of the frames the extra views (phases, trimmed) are hashed from.
VIEW_SIDE = 512


class FrameViews:
    """Collects the hashes of each view (phase x trimmed) as sampled frames arrive."""

    def __init__(self, frame_rate: float, phases: int, trim: bool) -> None:
        self.frame_rate = frame_rate
        self.phases = phases
        self.trim = trim
        self.frames: dict[tuple[int, bool], list[VpdqFrame]] = {
            (p, t): [] for p in range(phases) for t in ((False, True) if trim else (False,))
        }
        self._pending: list[tuple[int, int, np.ndarray]] = []
        self._box: tuple[int, int, int, int] | None = None
        self._measured = not trim

    def _frame(self, number: int, pixels: np.ndarray) -> VpdqFrame:
        digest = pdq_from_pixels(pixels)
        return VpdqFrame(number, digest.quality, digest.value, number / self.frame_rate)

    def add(self, number: int, phase: int, frame: Any, converter: RgbConverter) -> None:
        """Hash one sampled frame into its views.

        The vpdq-compatible view (phase 0, untrimmed) hashes the full frame as vpdq does; the
        extra views hash a copy at most 512 px long (swscale area reduction), which PDQ hardly
        notices and which makes them several times cheaper.
        """
        small = _reduced_rgb(frame) if (phase or self.trim) else None
        if phase == 0:
            self.frames[(0, False)].append(self._frame(number, converter.rgb(frame)))
        elif small is not None:
            self.frames[(phase, False)].append(self._frame(number, small))
        if not self.trim or small is None:
            return
        if self._measured:
            self._add_trimmed(number, phase, small)
            return
        self._pending.append((number, phase, small))
        if len(self._pending) >= _TRIM_SAMPLE:
            self.finish()

    def finish(self) -> None:
        """Measure the bars on the frames held back, and hash them trimmed."""
        if self._measured:
            return
        self._measured = True
        self._box = bar_box([rgb for _n, _p, rgb in self._pending])
        for number, phase, rgb in self._pending:
            self._add_trimmed(number, phase, rgb)
        self._pending.clear()

    def _add_trimmed(self, number: int, phase: int, rgb: np.ndarray) -> None:
        if self._box is None:
            return
        top, bottom, left, right = self._box
        height, width = rgb.shape[:2]
        inner = np.ascontiguousarray(rgb[top : height - bottom, left : width - right])
        self.frames[(phase, True)].append(self._frame(number, inner))

    def any(self) -> bool:
        """Whether the vpdq-compatible view holds a frame yet."""
        return bool(self.frames[(0, False)])

    def last_timestamp(self) -> float:
        """The latest timestamp hashed in any view (0 if none)."""
        return max((f[-1].timestamp for f in self.frames.values() if f), default=0.0)

    def named_variants(self) -> dict[str, list[VpdqFrame]]:
        """The extra views that hold frames, by variant name (e.g. ``trimmed+phase1/2``)."""
        named = {}
        for (phase, trimmed), frames in self.frames.items():
            if (phase, trimmed) == (0, False) or not frames:
                continue
            parts = (["trimmed"] if trimmed else []) + (
                [f"phase{phase}/{self.phases}"] if phase else []
            )
            named["+".join(parts)] = frames
        return named


def _reduced_rgb(frame: Any) -> np.ndarray:
    """The frame as RGB at most `VIEW_SIDE` px on its long side."""
    scale = min(1.0, VIEW_SIDE / max(frame.width, frame.height))
    width, height = max(1, round(frame.width * scale)), max(1, round(frame.height * scale))
    rgb: np.ndarray = frame.reformat(
        width=width, height=height, format="rgb24", interpolation="AREA"
    ).to_ndarray()
    return rgb


def bar_box(frames: list[np.ndarray]) -> tuple[int, int, int, int] | None:
    """Uniform bars (top, bottom, left, right) present in every one of `frames`, or None.

    Each side's bar is the narrowest uniform run over the frames (see `variants`), ignored
    below 1 % of the side; None when there are no bars or they would leave under 10 %.
    """
    if not frames:
        return None
    sides = [border_runs(rgb.astype(np.int16)) for rgb in frames]
    narrowest = (
        min(s[0] for s in sides),
        min(s[1] for s in sides),
        min(s[2] for s in sides),
        min(s[3] for s in sides),
    )
    height, width = frames[0].shape[:2]
    return border_box(narrowest, height, width)


class RgbConverter:
    """YUV to RGB24 through swscale with the reference's rounding.

    The filter graph is built from the first frame (a damaged header may not say the pixel
    format) and rebuilt if the frame size or format changes mid-stream.
    """

    def __init__(self, max_pixels: int) -> None:
        self._max_pixels = max_pixels
        self._graph: Graph | None = None
        self._shape: tuple[int, int, str] | None = None

    def rgb(self, frame: Any) -> Any:
        """The frame as an RGB24 array (height, width, 3)."""
        shape = (frame.width, frame.height, frame.format.name)
        if shape != self._shape:
            self._check_size(frame.width, frame.height)
            self._graph = self._build(frame)
            self._shape = shape
        assert self._graph is not None
        self._graph.push(frame)
        return self._graph.pull().to_ndarray()

    def _check_size(self, width: int, height: int) -> None:
        if width * height > self._max_pixels:
            raise HashingError(
                ErrorCode.TOO_LARGE,
                f"Video frames are {width}x{height}, over the limit of {self._max_pixels:,} "
                "pixels.",
            )
        if min(width, height) < MIN_SIDE:
            raise HashingError(
                ErrorCode.TOO_SMALL,
                f"Video frames are {width}x{height}; both sides must be at least {MIN_SIDE} px.",
            )

    @staticmethod
    def _build(frame: Any) -> Graph:
        graph = Graph()
        source = graph.add_buffer(
            width=frame.width,
            height=frame.height,
            format=frame.format.name,
            time_base=frame.time_base or Fraction(1, 1000),
        )
        scale = graph.add("scale", f"flags={_SCALER_FLAGS}")
        pixel_format = graph.add("format", "rgb24")
        sink = graph.add("buffersink")
        source.link_to(scale)
        scale.link_to(pixel_format)
        pixel_format.link_to(sink)
        graph.configure()
        return graph
