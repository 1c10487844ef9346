"""Bounded resources when hashing: memory per image (measured in a real child process against
the stated ceiling), tiled conversion that changes no hash, video length/frames/time limits,
and vector drawings named as unsupported."""

from __future__ import annotations

import io
import json
import struct
import subprocess
import sys
import zlib
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image

from redress.hashing import ErrorCode, HashOptions, hash_file
from redress.hashing.errors import HashingError
from redress.hashing.images import (
    DEFAULT_MAX_DECODE_MB,
    decode_cost,
    load_image,
    reduced_rgb,
    to_rgb,
)
from redress.hashing.signal_types import hamming_distance
from redress.hashing.video import hash_video_file
from redress.hashing.video_limits import VideoLimits
from tests.conftest import textured_image

SIDE = 10_000

# The child records its peak RSS after importing everything (the baseline) and after hashing.
_CHILD = """
import json, resource, sys
from pathlib import Path
from redress.hashing import HashOptions, hash_file
from redress.hashing.files import estimate_cost

def peak():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024

path = Path(sys.argv[1])
options = HashOptions(types=("pdq", "md5", "sha256"), dihedral=True)
cost = estimate_cost(path, options)
baseline = peak()
result = hash_file(path, options)
print(json.dumps({"baseline": baseline, "peak": peak(), "cost": cost, "ok": result.ok,
                  "error": result.error.message if result.error else None}))
"""


def _big(tmp_path_factory: pytest.TempPathFactory, name: str, pixels: np.ndarray) -> Path:
    path = tmp_path_factory.mktemp("big") / name
    Image.fromarray(pixels).save(path)
    return path


@pytest.fixture(scope="module")
def grey16(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A 10000 x 10000 16-bit greyscale PNG of a few hundred KB (a grid of lines)."""
    values = np.zeros((SIDE, SIDE), dtype=np.uint16)
    values[::97, :] = 40_000
    values[:, ::89] = 1_000
    path = _big(tmp_path_factory, "grey16.png", values)
    del values
    yield path


@pytest.fixture(scope="module")
def rgba(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A 10000 x 10000 RGBA PNG with varying transparency, a few hundred KB."""
    values = np.zeros((SIDE, SIDE, 4), dtype=np.uint8)
    values[::97, :, 0] = 255
    values[:, ::89, 3] = 255
    values[..., 3] |= 128
    path = _big(tmp_path_factory, "rgba.png", values)
    del values
    yield path


def _measure(path: Path) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, "-c", _CHILD, str(path)], capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stderr
    return dict(json.loads(done.stdout))


@pytest.mark.parametrize("image", ["grey16", "rgba"])
def test_a_100_megapixel_png_hashes_within_its_stated_memory(
    image: str, request: pytest.FixtureRequest
) -> None:
    path: Path = request.getfixturevalue(image)
    assert path.stat().st_size < 1_000_000  # the attack: a small file, a huge picture
    measured = _measure(path)
    assert measured["ok"], measured["error"]
    cost, grown = int(measured["cost"]), int(measured["peak"]) - int(measured["baseline"])
    # The stated ceiling holds for the real peak, and it is far below the default per-file limit
    # (before tiling, these took 2.7 and 2.3 GB).
    assert grown <= cost, f"peak grew {grown >> 20} MB, over the stated {cost >> 20} MB"
    assert cost <= DEFAULT_MAX_DECODE_MB << 20
    assert cost <= (600 << 20)


def test_an_image_over_the_decode_budget_is_refused_before_decoding(grey16: Path) -> None:
    needed = decode_cost(grey16)
    result = hash_file(grey16, HashOptions(max_decode_mb=64))
    assert result.error is not None
    assert result.error.code is ErrorCode.TOO_LARGE
    assert "10000x10000" in result.error.message
    assert f"{-(-needed // (1 << 20))} MB" in result.error.message
    assert "REDRESS_MAX_DECODE_MB" in result.error.message


def _whole(image: Image.Image) -> np.ndarray:
    """The conversion before tiling: the whole picture to RGB, then Pillow's thumbnail."""
    rgb = to_rgb(image)
    rgb.thumbnail((512, 512), Image.Resampling.BICUBIC)
    return np.asarray(rgb)


def _modes() -> dict[str, Image.Image]:
    base = textured_image(2900, 1700, seed=5)
    grey = np.asarray(base.convert("L"))
    rgba = np.asarray(base.convert("RGBA")).copy()
    rgba[..., 3] = (np.arange(2900) % 256)[None, :]
    palette = base.convert("P", palette=Image.Palette.ADAPTIVE)
    palette.info["transparency"] = 3
    return {
        "RGB": base,
        "RGBA": Image.fromarray(rgba, "RGBA"),
        "LA": base.convert("LA"),
        "I;16": Image.fromarray(grey.astype(np.uint16) * 200 + 77),
        "F": Image.fromarray(grey.astype(np.float32) / 3.3, "F"),
        "P+transparency": palette,
        "CMYK": base.convert("CMYK"),
        "1": base.convert("1"),
        "thin": textured_image(6000, 40, seed=2),
    }


@pytest.mark.parametrize("mode", list(_modes()))
def test_tiled_conversion_gives_exactly_the_whole_picture_result(mode: str) -> None:
    image = _modes()[mode]
    np.testing.assert_array_equal(np.asarray(reduced_rgb(image.copy(), 512)), _whole(image))


# --- video -------------------------------------------------------------------------------------


def _video(path: Path, seconds: int, fps: int = 10, container: str | None = None) -> Path:
    """A small generated clip: a moving gradient, `seconds` long."""
    with av.open(str(path), "w", format=container) as output:
        stream = output.add_stream("libx264" if container == "h264" else "mpeg4", rate=fps)
        stream.width, stream.height = 64, 48
        stream.pix_fmt = "yuv420p"
        for number in range(seconds * fps):
            pixels = np.zeros((48, 64, 3), dtype=np.uint8)
            pixels[..., 0] = (np.arange(64) * 4 + number * 3) % 256
            pixels[..., 1] = (np.arange(48)[:, None] * 5 + number) % 256
            frame = av.VideoFrame.from_ndarray(pixels, format="rgb24")
            frame.pts = number
            frame.time_base = Fraction(1, fps)
            output.mux(stream.encode(frame))
        output.mux(stream.encode(None))
    return path


def test_a_video_longer_than_the_limit_is_refused_from_its_header(tmp_path: Path) -> None:
    clip = _video(tmp_path / "ten.mp4", 10)
    result = hash_file(clip, HashOptions(max_video_seconds=5))
    assert result.error is not None
    assert result.error.code is ErrorCode.VIDEO_TOO_LONG
    assert (
        "10 s long" in result.error.message and "REDRESS_MAX_VIDEO_SECONDS" in result.error.message
    )
    assert hash_file(clip, HashOptions(max_video_seconds=11)).ok


def test_a_video_without_a_declared_length_is_stopped_while_decoding(tmp_path: Path) -> None:
    # A raw H.264 stream declares no duration (and ffmpeg assumes 25 fps, so these 100 frames
    # last 4 s): only the decoded frames show how long it is.
    clip = _video(tmp_path / "ten.h264", 10, container="h264")
    with av.open(str(clip)) as opened:
        assert opened.duration is None and opened.streams.video[0].duration is None
    with pytest.raises(HashingError) as refused:
        hash_video_file(clip, limits=VideoLimits(max_seconds=3))
    assert refused.value.code is ErrorCode.VIDEO_TOO_LONG
    assert "frames go on past 3 s" in refused.value.message
    assert len(hash_video_file(clip, limits=VideoLimits(max_seconds=5)).frames) == 4


def test_hashed_frames_are_bounded(tmp_path: Path) -> None:
    clip = _video(tmp_path / "ten.mp4", 10)
    with pytest.raises(HashingError) as refused:
        hash_video_file(clip, every_frame=True, limits=VideoLimits(max_frames=30))
    assert refused.value.code is ErrorCode.VIDEO_TOO_LONG
    assert "more than 30 frames" in refused.value.message
    assert "REDRESS_MAX_VIDEO_FRAMES" in refused.value.message


def test_hashing_a_video_stops_at_the_deadline(tmp_path: Path) -> None:
    clip = _video(tmp_path / "ten.mp4", 10)
    now = [0.0]

    def clock() -> float:  # each look at the clock is one second later
        now[0] += 1.0
        return now[0]

    with pytest.raises(HashingError) as stopped:
        hash_video_file(clip, limits=VideoLimits(deadline_seconds=20, clock=clock))
    assert stopped.value.code is ErrorCode.VIDEO_TIMEOUT
    assert "over 20 s" in stopped.value.message
    assert "REDRESS_VIDEO_DEADLINE_SECONDS" in stopped.value.message
    assert len(hash_video_file(clip).frames) == 10  # the real clock: well within the deadline


def test_video_frames_too_big_to_decode_are_refused(tmp_path: Path) -> None:
    clip = _video(tmp_path / "ten.mp4", 1)
    with pytest.raises(HashingError) as refused:
        hash_video_file(clip, limits=VideoLimits(max_decode_bytes=1 << 20))
    assert refused.value.code is ErrorCode.TOO_LARGE
    assert "64x48" in refused.value.message


# --- vector drawings ---------------------------------------------------------------------------

_SVG = (
    '<?xml version="1.0" encoding="UTF-8"?>\n<!-- a drawing -->\n'
    '<svg xmlns="http://www.w3.org/2000/svg" width="200" height="100">'
    '<rect width="100" height="50" fill="red"/></svg>\n'
)


def test_svg_is_unsupported_and_says_what_to_convert_to(tmp_path: Path) -> None:
    (tmp_path / "drawing.svg").write_text(_SVG, encoding="utf-8")
    (tmp_path / "bare.svg").write_text(_SVG.split("\n", 2)[2], encoding="utf-8")
    for name in ("drawing.svg", "bare.svg"):
        result = hash_file(tmp_path / name)
        assert result.error is not None
        assert result.error.code is ErrorCode.UNSUPPORTED_FORMAT, result.error.message
        assert "SVG" in result.error.message and "PNG" in result.error.message


def test_svg_through_the_cli_is_one_clear_line(tmp_path: Path) -> None:
    (tmp_path / "drawing.svg").write_text(_SVG, encoding="utf-8")
    done = subprocess.run(
        [str(Path(sys.executable).parent / "redress"), "hash", str(tmp_path / "drawing.svg")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1
    record = json.loads(done.stdout)
    assert record["error"]["code"] == "unsupported_format"
    assert "Traceback" not in done.stderr


def test_eps_is_unsupported(tmp_path: Path) -> None:
    (tmp_path / "figure.eps").write_text(
        "%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 100 100\nnewpath 0 0 moveto 100 100 "
        "lineto stroke\nshowpage\n",
        encoding="ascii",
    )
    result = hash_file(tmp_path / "figure.eps")
    assert result.error is not None
    assert result.error.code is ErrorCode.UNSUPPORTED_FORMAT
    assert "PNG" in result.error.message


def test_a_png_whose_orientation_comes_after_its_pixels_is_turned_upright(tmp_path: Path) -> None:
    # An eXIf chunk after the image data is only seen once the picture is decoded; the small
    # reduced picture is turned then, rather than a second full-size copy.
    upright = textured_image(1800, 1200, seed=4)
    upright.save(tmp_path / "upright.png")
    stored = io.BytesIO()
    upright.transpose(Image.Transpose.ROTATE_90).save(stored, "PNG")
    data = stored.getvalue()
    exif = Image.Exif()
    exif[0x0112] = 6
    raw = exif.tobytes().removeprefix(b"Exif\x00\x00")
    chunk = struct.pack(">I", len(raw)) + b"eXIf" + raw
    chunk += struct.pack(">I", zlib.crc32(b"eXIf" + raw))
    end = data.rindex(b"IEND") - 4
    (tmp_path / "late.png").write_bytes(data[:end] + chunk + data[end:])
    with Image.open(tmp_path / "late.png") as opened:
        assert "exif" not in opened.info  # not known from the header
    loaded = load_image(tmp_path / "late.png")
    assert (loaded.width, loaded.height) == (1800, 1200)
    assert loaded.pixels.shape == (341, 512, 3)
    late = hash_file(tmp_path / "late.png", HashOptions(types=("pdq",))).signals[0].value
    plain = hash_file(tmp_path / "upright.png", HashOptions(types=("pdq",))).signals[0].value
    assert hamming_distance(late, plain) <= 8
