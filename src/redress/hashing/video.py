"""vPDQ video hashing with PyAV (ffmpeg in the wheel) and `pdqhash`, output identical in format
to Meta's vpdq: one PDQ hash per sampled frame, with frame number, quality and timestamp.

Frames are converted to RGB the way the vpdq reference does (swscale, bicubic with accurate
rounding), so with `every_frame=True` hashes agree with its output frame for frame.

By default one frame per second is hashed: frame numbers that are multiples of
`int(seconds_per_hash * fps)`, exactly the frames vpdq picks, so our hashes and those of other vpdq
users sample the same pictures. Decoding does as little as that needs: a frame that is neither
sampled nor referenced by another frame is skipped by the decoder (ffmpeg's `skip_frame`, set per
packet from its timestamp), and only sampled frames are converted to RGB and hashed.

Hashing is bounded (`VideoLimits`, in `video_limits`): the duration the container declares, the
timestamps of the frames as they are decoded (for files whose header lies or says nothing), the
number of frames hashed, wall-clock time, and the memory the decoder needs at the frame size.
"""

from __future__ import annotations

from collections.abc import Callable, Container, Iterator
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import av.error
import numpy as np
from av.filter import Graph

from redress.hashing.errors import ErrorCode, HashingError
from redress.hashing.images import DEFAULT_MAX_PIXELS, MIN_SIDE, check_readable_file
from redress.hashing.pdq import pdq_from_pixels
from redress.hashing.signal_types import VpdqFrame
from redress.hashing.variants import border_box, border_runs
from redress.hashing.video_limits import (
    VideoLimits,
    check_header,
    too_long,
    undecodable,
)

#: Demuxers that open still images or text; a file they claim is not a video.
_NOT_VIDEO_FORMATS = frozenset({"image2", "tty", "txt", "ass", "srt", "webvtt", "lrc"})
_SCALER_FLAGS = "bicubic+accurate_rnd"


@dataclass(slots=True)
class VideoHash:
    """The vPDQ frames of one video, with its duration and what was noticed while hashing.

    `variants` holds extra views by name (see `hash_video_file`): `phase2/5` (the same rate,
    sampled later within each period), `trimmed` (letterbox or pillarbox bars cut off), and
    `trimmed+phase2/5`.
    """

    frames: list[VpdqFrame]
    frame_rate: float
    duration: float
    warnings: list[str] = field(default_factory=list)
    variants: dict[str, list[VpdqFrame]] = field(default_factory=dict)


def probe_video(path: Path) -> bool:
    """Whether ffmpeg can open `path` as a container with a video stream.

    Raises `HashingError(NO_VIDEO_STREAM)` for an audio-only file; returns False for anything
    that is not a media container at all.
    """
    try:
        with av.open(str(path), metadata_errors="ignore") as container:
            name = container.format.name
            if name in _NOT_VIDEO_FORMATS or name.endswith("_pipe"):
                return False  # a still image ffmpeg reads (SVG, ...): the image side explains
            if container.streams.video:
                return True
            if container.streams.audio:
                raise HashingError(
                    ErrorCode.NO_VIDEO_STREAM,
                    "This is an audio-only file: there is no picture to hash. "
                    "Use --types md5 or sha256 to hash its bytes.",
                )
            return False
    except av.error.FFmpegError:
        return False


def hash_video_file(
    path: Path,
    *,
    every_frame: bool = False,
    seconds_per_hash: float = 1.0,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    threads: int = 0,
    phases: int = 1,
    trim_borders: bool = False,
    limits: VideoLimits | None = None,
) -> VideoHash:
    """vPDQ of a video file: one frame per `seconds_per_hash`, or every frame.

    `phases` > 1 adds views sampled at the same rate but shifted by a fraction of the period, so
    that a copy cut at a different moment still lines up with a bank hash (query side).
    `trim_borders` adds a view with uniform bars removed; the bars are measured on the first
    sampled frames (the narrowest found on each side, so dark scenes do not count as bars).
    `threads` is ffmpeg's decoding thread count (0: ffmpeg decides). Raises `HashingError` for
    files that are not videos, audio-only files, videos too damaged to yield any frame, and
    videos past `limits` (`video_too_long`, `video_timeout`, `too_large`).
    """
    bounds = limits or VideoLimits()
    started = bounds.clock()
    check_readable_file(path)
    try:
        container = av.open(str(path), metadata_errors="ignore")
    except av.error.FFmpegError as exc:
        raise HashingError(
            ErrorCode.CORRUPT,
            f"The video cannot be opened; it is damaged or truncated ({_reason(exc)}).",
        ) from None
    with container:
        if not container.streams.video:
            if container.streams.audio:
                raise HashingError(
                    ErrorCode.NO_VIDEO_STREAM,
                    "This is an audio-only file: there is no picture to hash.",
                )
            raise HashingError(ErrorCode.NOT_MEDIA, "The file has no video stream.")
        stream = container.streams.video[0]
        context = stream.codec_context
        if context is None:
            raise undecodable(stream)
        check_header(container, stream, bounds, threads)
        rate = stream.average_rate or stream.guessed_rate or stream.base_rate
        frame_rate = float(rate) if rate else 0.0
        if frame_rate <= 0:
            raise HashingError(
                ErrorCode.CORRUPT, "The video does not declare a frame rate; it cannot be sampled."
            )
        context.thread_count = threads
        context.thread_type = "AUTO"
        frame_mod = 1 if every_frame else max(1, int(seconds_per_hash * frame_rate))
        count = 1 if frame_mod == 1 else max(1, min(phases, frame_mod))
        offsets = {round(p * frame_mod / count) % frame_mod: p for p in range(count)}
        views = _Views(frame_rate, count, trim_borders)
        converter = _RgbConverter(max_pixels)
        notes: list[str] = []
        last_seen = -1

        def tick() -> None:
            if bounds.clock() - started > bounds.deadline_seconds:
                raise HashingError(
                    ErrorCode.VIDEO_TIMEOUT,
                    f"Hashing the video took over {bounds.deadline_seconds:g} s (it had reached "
                    f"{max(last_seen, 0) / frame_rate:.0f} s of video); it was stopped. Raise "
                    "REDRESS_VIDEO_DEADLINE_SECONDS (or --video-deadline) for long videos.",
                )

        try:
            for number, frame in _sampled_frames(
                container, stream, frame_rate, frame_mod, offsets, tick
            ):
                tick()
                if number <= last_seen:
                    continue
                last_seen = number
                if number / frame_rate > bounds.max_seconds:
                    raise too_long(
                        f"its frames go on past {bounds.max_seconds:g} s", bounds.max_seconds
                    )
                phase = offsets.get(number % frame_mod)
                if phase is not None:
                    views.add(number, phase, frame, converter)
                    if len(views.frames[(0, False)]) > bounds.max_frames:
                        raise HashingError(
                            ErrorCode.VIDEO_TOO_LONG,
                            f"The video has more than {bounds.max_frames:,} frames to hash; it "
                            "was stopped there. Raise REDRESS_MAX_VIDEO_FRAMES (or "
                            "--max-video-frames) to hash longer videos.",
                        )
        except (av.error.FFmpegError, ValueError) as exc:
            if not views.any():
                raise HashingError(
                    ErrorCode.CORRUPT, f"The video data is damaged ({_reason(exc)})."
                ) from None
            notes.append(
                f"The video is damaged after {views.last_timestamp():.1f} s; only the frames "
                "before that were hashed."
            )
        views.finish()
        frames = views.frames[(0, False)]
        if not frames:
            raise HashingError(
                ErrorCode.CORRUPT,
                "The video contains no decodable frames; it is damaged or truncated.",
            )
        duration = _duration(container, stream, frames, frame_rate)
        decoded_until = (last_seen + 1) / frame_rate
        if not notes and duration - decoded_until > max(2.0, 2 * seconds_per_hash):
            notes.append(
                f"The video declares {duration:.1f} s but its frames stop at "
                f"{decoded_until:.1f} s; it may be truncated. Only what is there was hashed."
            )
        return VideoHash(frames, frame_rate, duration, notes, views.named_variants())


def _sampled_frames(
    container: Any,
    stream: Any,
    frame_rate: float,
    frame_mod: int,
    offsets: Container[int],
    tick: Callable[[], None],
) -> Iterator[tuple[int, Any]]:
    """Decoded frames with their frame numbers.

    With every frame wanted (`frame_mod` 1) frames are counted as vpdq counts them. Otherwise
    each packet's number is known from its timestamp before decoding, and packets of frames that
    are not sampled are decoded with `skip_frame=NONREF`: skipped unless other frames need them.
    """
    context = stream.codec_context
    if frame_mod == 1:
        yield from enumerate(container.decode(stream))
        return
    time_base = float(stream.time_base)
    start: float | None = float(stream.start_time) if stream.start_time is not None else None

    def number_of(pts: int | None) -> int | None:
        if pts is None or start is None:
            return None
        return max(0, round((pts - start) * time_base * frame_rate))

    counted = 0  # fallback numbering for streams without timestamps
    for packet in container.demux(stream):
        tick()  # packets whose frames are all skipped still take time
        if start is None and packet.pts is not None:
            start = float(packet.pts)
        wanted = number_of(packet.pts)
        skip = wanted is not None and wanted % frame_mod not in offsets
        context.skip_frame = "NONREF" if skip else "DEFAULT"
        for frame in packet.decode():
            number = number_of(frame.pts)
            yield (counted if number is None else number), frame
            counted += 1


_TRIM_SAMPLE = 20
#: Long side of the frames the extra views (phases, trimmed) are hashed from.
VIEW_SIDE = 512


class _Views:
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

    def add(self, number: int, phase: int, frame: Any, converter: _RgbConverter) -> None:
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
        return bool(self.frames[(0, False)])

    def last_timestamp(self) -> float:
        return max((f[-1].timestamp for f in self.frames.values() if f), default=0.0)

    def named_variants(self) -> dict[str, list[VpdqFrame]]:
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


class _RgbConverter:
    """YUV to RGB24 through swscale with the reference's rounding.

    The filter graph is built from the first frame (a damaged header may not say the pixel
    format) and rebuilt if the frame size or format changes mid-stream.
    """

    def __init__(self, max_pixels: int) -> None:
        self._max_pixels = max_pixels
        self._graph: Graph | None = None
        self._shape: tuple[int, int, str] | None = None

    def rgb(self, frame: Any) -> Any:
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


def _duration(container: Any, stream: Any, frames: list[VpdqFrame], frame_rate: float) -> float:
    if stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    if container.duration is not None:
        return float(container.duration) / 1_000_000
    return frames[-1].timestamp + 1.0 / frame_rate


def _reason(exc: Exception) -> str:
    return str(getattr(exc, "strerror", None) or exc)
