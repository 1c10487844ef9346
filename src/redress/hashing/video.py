"""vPDQ video hashing with PyAV (ffmpeg in the wheel) and `pdqhash`, output identical in format
to Meta's vpdq: one PDQ hash per sampled frame, with frame number, quality and timestamp.

Frames are converted to RGB the way the vpdq reference does (swscale, bicubic with accurate
rounding), so with `every_frame=True` hashes agree with its output frame for frame.

By default one frame per second is hashed: frame numbers that are multiples of
`int(seconds_per_hash * fps)`, exactly the frames vpdq picks, so our hashes and those of other vpdq
users sample the same pictures. Decoding does as little as that needs: a frame that is neither
sampled nor referenced by another frame is skipped by the decoder (ffmpeg's `skip_frame`, set per
packet from its timestamp), and only sampled frames are converted to RGB and hashed.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import av.error
from av.filter import Graph

from redress.hashing.errors import ErrorCode, HashingError
from redress.hashing.images import DEFAULT_MAX_PIXELS, MIN_SIDE, check_readable_file
from redress.hashing.pdq import pdq_from_pixels
from redress.hashing.signal_types import VpdqFrame

#: Demuxers that open still images or text; a file they claim is not a video.
_NOT_VIDEO_FORMATS = frozenset({"image2", "tty", "txt", "ass", "srt", "webvtt", "lrc"})
_SCALER_FLAGS = "bicubic+accurate_rnd"


@dataclass(slots=True)
class VideoHash:
    """The vPDQ frames of one video, with its duration and what was noticed while hashing."""

    frames: list[VpdqFrame]
    frame_rate: float
    duration: float
    warnings: list[str] = field(default_factory=list)


def probe_video(path: Path) -> bool:
    """Whether ffmpeg can open `path` as a container with a video stream.

    Raises `HashingError(NO_VIDEO_STREAM)` for an audio-only file; returns False for anything
    that is not a media container at all.
    """
    try:
        with av.open(str(path), metadata_errors="ignore") as container:
            if container.format.name in _NOT_VIDEO_FORMATS:
                return False
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
) -> VideoHash:
    """vPDQ of a video file: one frame per `seconds_per_hash`, or every frame.

    `threads` is ffmpeg's decoding thread count (0: ffmpeg decides). Raises `HashingError` for
    files that are not videos, audio-only files, and videos too damaged to yield any frame.
    """
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
        rate = stream.average_rate or stream.guessed_rate or stream.base_rate
        frame_rate = float(rate) if rate else 0.0
        if frame_rate <= 0:
            raise HashingError(
                ErrorCode.CORRUPT, "The video does not declare a frame rate; it cannot be sampled."
            )
        context.thread_count = threads
        context.thread_type = "AUTO"
        frame_mod = 1 if every_frame else max(1, int(seconds_per_hash * frame_rate))
        converter = _RgbConverter(max_pixels)
        frames: list[VpdqFrame] = []
        notes: list[str] = []
        last_seen = 0
        try:
            for number, frame in _sampled_frames(container, stream, frame_rate, frame_mod):
                last_seen = max(last_seen, number)
                if number % frame_mod or (frames and number <= frames[-1].frame_number):
                    continue
                digest = pdq_from_pixels(converter.rgb(frame))
                frames.append(VpdqFrame(number, digest.quality, digest.value, number / frame_rate))
        except (av.error.FFmpegError, ValueError) as exc:
            if not frames:
                raise HashingError(
                    ErrorCode.CORRUPT, f"The video data is damaged ({_reason(exc)})."
                ) from None
            notes.append(
                f"The video is damaged after {frames[-1].timestamp:.1f} s; only the frames "
                "before that were hashed."
            )
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
        return VideoHash(frames, frame_rate, duration, notes)


def _sampled_frames(
    container: Any, stream: Any, frame_rate: float, frame_mod: int
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
        if start is None and packet.pts is not None:
            start = float(packet.pts)
        wanted = number_of(packet.pts)
        context.skip_frame = "NONREF" if wanted is not None and wanted % frame_mod else "DEFAULT"
        for frame in packet.decode():
            number = number_of(frame.pts)
            yield (counted if number is None else number), frame
            counted += 1


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
