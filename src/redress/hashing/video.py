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
from pathlib import Path
from typing import Any

import av
import av.error

from redress.hashing.errors import ErrorCode, HashingError
from redress.hashing.images import DEFAULT_MAX_PIXELS, check_readable_file
from redress.hashing.signal_types import VpdqFrame
from redress.hashing.video_limits import (
    VideoLimits,
    check_header,
    too_long,
    undecodable,
)
from redress.hashing.video_views import FrameViews, RgbConverter

#: Demuxers that open still images or text; a file they claim is not a video.
_NOT_VIDEO_FORMATS = frozenset({"image2", "tty", "txt", "ass", "srt", "webvtt", "lrc"})


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
        views = FrameViews(frame_rate, count, trim_borders)
        converter = RgbConverter(max_pixels)
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


def _duration(container: Any, stream: Any, frames: list[VpdqFrame], frame_rate: float) -> float:
    if stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    if container.duration is not None:
        return float(container.duration) / 1_000_000
    return frames[-1].timestamp + 1.0 / frame_rate


def _reason(exc: Exception) -> str:
    return str(getattr(exc, "strerror", None) or exc)
