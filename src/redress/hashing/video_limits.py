"""Bounds on hashing a video: its length (declared or decoded), the frames hashed, wall-clock time,
and the memory its decoder needs at its frame size."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import av
import av.error

from redress.hashing.errors import ErrorCode, HashingError
from redress.hashing.images import BASE_COST, DEFAULT_MAX_DECODE_MB, over_budget

#: Default limits: three hours of video, 36,000 hashed frames (ten hours at one per second, or
#: 20 minutes of 30 fps with every frame), ten minutes of hashing.
DEFAULT_MAX_VIDEO_SECONDS = 3 * 3600.0
DEFAULT_MAX_VIDEO_FRAMES = 36_000
DEFAULT_VIDEO_DEADLINE_SECONDS = 600.0
#: Frames the decoder may hold besides its threads' (references, reordering, the output queue).
_HELD_FRAMES = 10


@dataclass(frozen=True, slots=True)
class VideoLimits:
    """How much of a video may be hashed: declared or decoded duration, frames hashed, wall-clock
    seconds, and the decoder's memory. `clock` is injectable so tests can move time."""

    max_seconds: float = DEFAULT_MAX_VIDEO_SECONDS
    max_frames: int = DEFAULT_MAX_VIDEO_FRAMES
    deadline_seconds: float = DEFAULT_VIDEO_DEADLINE_SECONDS
    max_decode_bytes: int = DEFAULT_MAX_DECODE_MB << 20
    clock: Callable[[], float] = time.monotonic


def video_cost(width: int, height: int, threads: int) -> int:
    """Peak memory, in bytes, of decoding and hashing a video of `width` x `height` frames.

    The decoder holds reference and reordering frames plus one per thread (up to 3 bytes a pixel
    for 10-bit or 4:4:4 video); each sampled frame becomes an RGB array (3) and PDQ's float
    luminance buffers (8) at full size.
    """
    decoding_threads = threads or min(16, (os.cpu_count() or 1) + 1)
    pixels = width * height
    return BASE_COST + pixels * (3 * (_HELD_FRAMES + decoding_threads) + 3 + 8)


def video_decode_cost(path: Path, threads: int = 0) -> int:
    """`video_cost` of the first video stream of `path`, from its header (0 if none)."""
    try:
        with av.open(str(path), metadata_errors="ignore") as container:
            if not container.streams.video:
                return 0
            stream = container.streams.video[0]
            return video_cost(stream.width or 0, stream.height or 0, threads)
    except av.error.FFmpegError:
        return 0


def check_header(container: Any, stream: Any, bounds: VideoLimits, threads: int) -> None:
    """Refuse from the header a video declared longer than the limit or too big to decode."""
    declared = None
    if stream.duration is not None and stream.time_base is not None:
        declared = float(stream.duration * stream.time_base)
    elif container.duration is not None:
        declared = float(container.duration) / 1_000_000
    if declared is not None and declared > bounds.max_seconds:
        raise too_long(f"it is {declared:.0f} s long", bounds.max_seconds)
    width, height = stream.width or 0, stream.height or 0
    cost = video_cost(width, height, threads)
    if cost > bounds.max_decode_bytes:
        raise over_budget(f"The video's frames are {width}x{height}", cost, bounds.max_decode_bytes)


def too_long(what: str, limit: float) -> HashingError:
    """The `video_too_long` error: what was found, the limit, and the setting to change."""
    return HashingError(
        ErrorCode.VIDEO_TOO_LONG,
        f"The video is too long to hash: {what}, over the limit of {limit:g} s. Raise "
        "REDRESS_MAX_VIDEO_SECONDS (or --max-video-seconds) to hash longer videos.",
    )


def undecodable(stream: Any) -> HashingError:
    """The error for a video stream ffmpeg can read but not decode (an SVG, an unknown codec)."""
    codec = getattr(getattr(stream, "codec", None), "name", None) or "unknown"
    return HashingError(
        ErrorCode.UNSUPPORTED_FORMAT,
        f"The file's picture is in a format ({codec}) that cannot be decoded here; convert it "
        "to PNG (a drawing or image) or MP4 (a video) and hash that.",
    )
