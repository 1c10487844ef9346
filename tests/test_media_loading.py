"""Hostile and unusual input: every bad file gets a specific error code and message, and every
supported format and mode hashes sensibly."""

from __future__ import annotations

import re
import struct
import zlib
from pathlib import Path

import av
import numpy as np
import pillow_heif
import pytest
from PIL import Image

from redress.hashing import ErrorCode, HashOptions, hash_file, hash_image_file
from redress.hashing.signal_types import hamming_distance
from tests.conftest import textured_image


def _error(path: Path, **options: object) -> tuple[str, str]:
    result = hash_file(path, HashOptions(**options))  # type: ignore[arg-type]
    assert result.error is not None, f"{path.name} should fail"
    assert not result.signals
    return result.error.code.value, result.error.message


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def test_decompression_bomb_is_refused_from_the_header(tmp_path: Path) -> None:
    # A 60000 x 60000 PNG header with almost no data: decoding it would need 3.6 GB.
    header = struct.pack(">IIBBBBB", 60000, 60000, 8, 0, 0, 0, 0)
    bomb = tmp_path / "bomb.png"
    bomb.write_bytes(
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", zlib.compress(b"\x00" * 1000))
        + _png_chunk(b"IEND", b"")
    )
    code, message = _error(bomb)
    assert code == "too_large"
    assert message.startswith("The image is too many pixels, over the limit of 100,000,000;")
    assert "decompression bomb" in message


def test_pixel_limit_is_configurable(tmp_path: Path) -> None:
    textured_image(400, 300).save(tmp_path / "photo.png")
    code, message = _error(tmp_path / "photo.png", max_pixels=100_000)
    assert code == "too_large"
    assert "400x300 = 120,000 pixels" in message
    assert hash_file(tmp_path / "photo.png", HashOptions(max_pixels=120_000)).ok


def test_zero_byte_file(tmp_path: Path) -> None:
    (tmp_path / "empty.jpg").write_bytes(b"")
    assert _error(tmp_path / "empty.jpg")[0] == "empty_file"


def test_missing_file(tmp_path: Path) -> None:
    assert _error(tmp_path / "nope.jpg")[0] == "not_found"


@pytest.mark.parametrize("suffix", [".jpg", ".png"])
def test_truncated_image(tmp_path: Path, suffix: str) -> None:
    whole = tmp_path / f"whole{suffix}"
    textured_image(800, 600).save(whole)
    cut = tmp_path / f"cut{suffix}"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    code, message = _error(cut)
    assert code == "truncated"
    assert "truncated" in message


def test_text_and_documents_are_not_media(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("not a picture\n" * 50)
    (tmp_path / "paper.pdf").write_bytes(b"%PDF-1.7\n" + b"0" * 500)
    assert _error(tmp_path / "notes.txt")[0] == "not_media"
    code, message = _error(tmp_path / "paper.pdf")
    assert code == "not_media"
    assert "PDF document" in message


def test_jpeg_xl_is_named_as_unsupported(tmp_path: Path) -> None:
    (tmp_path / "photo.jxl").write_bytes(b"\xff\x0a" + bytes(range(200)))
    code, message = _error(tmp_path / "photo.jxl")
    assert code == "unsupported_format"
    assert "JPEG XL" in message


def test_images_under_5_pixels_are_refused(tmp_path: Path) -> None:
    Image.new("RGB", (4, 300), "gray").save(tmp_path / "thin.png")
    code, message = _error(tmp_path / "thin.png")
    assert code == "too_small"
    assert "4x300" in message


def test_animated_gif_hashes_the_first_frame_and_says_so(tmp_path: Path) -> None:
    frames = [textured_image(200, 160, seed=s) for s in (1, 2)]
    frames[0].save(tmp_path / "anim.gif", save_all=True, append_images=frames[1:], duration=100)
    frames[0].save(tmp_path / "first.gif")
    result = hash_image_file(tmp_path / "anim.gif")
    assert any("first frame" in w for w in result.warnings)
    first = hash_image_file(tmp_path / "first.gif").hashes[0].value
    assert hamming_distance(result.hashes[0].value, first) <= 4


def test_transparency_is_composited_on_white(tmp_path: Path) -> None:
    picture = textured_image(300, 200)
    rgba = picture.convert("RGBA")
    alpha = np.full((200, 300), 255, dtype=np.uint8)
    alpha[:, :150] = 0  # left half fully transparent
    rgba.putalpha(Image.fromarray(alpha))
    rgba.save(tmp_path / "half.png")
    on_white = np.asarray(picture).copy()
    on_white[:, :150] = 255
    Image.fromarray(on_white).save(tmp_path / "white.png")
    distance = hamming_distance(
        hash_image_file(tmp_path / "half.png").hashes[0].value,
        hash_image_file(tmp_path / "white.png").hashes[0].value,
    )
    assert distance <= 4


def test_16_bit_greyscale_is_rescaled_not_clipped(tmp_path: Path) -> None:
    gray = np.asarray(textured_image(300, 200).convert("L"), dtype=np.uint16) * 256
    Image.fromarray(gray).save(tmp_path / "deep.png")
    with Image.open(tmp_path / "deep.png") as check:
        assert check.mode.startswith("I")
    textured_image(300, 200).convert("L").save(tmp_path / "eight.png")
    result = hash_image_file(tmp_path / "deep.png").hashes[0]
    assert result.quality >= 50
    eight = hash_image_file(tmp_path / "eight.png").hashes[0].value
    assert hamming_distance(result.value, eight) <= 4


@pytest.mark.parametrize("fmt", ["HEIF", "AVIF", "WEBP", "TIFF", "BMP"])
def test_other_formats_hash_like_the_png(tmp_path: Path, fmt: str) -> None:
    picture = textured_image(640, 480, seed=5)
    picture.save(tmp_path / "ref.png")
    target = tmp_path / f"copy.{fmt.lower()}"
    if fmt == "HEIF":
        pillow_heif.from_pillow(picture).save(target, quality=90)
    else:
        picture.save(target, format=fmt, **({"quality": 90} if fmt in {"AVIF", "WEBP"} else {}))
    distance = hamming_distance(
        hash_image_file(target).hashes[0].value,
        hash_image_file(tmp_path / "ref.png").hashes[0].value,
    )
    assert distance <= 10, f"{fmt}: {distance} bits"


def _write_audio_only(path: Path) -> None:
    with av.open(str(path), "w") as container:
        stream = container.add_stream("aac", rate=22050)
        samples = (np.sin(np.arange(22050) / 10) * 8000).astype(np.int16).reshape(1, -1)
        frame = av.AudioFrame.from_ndarray(samples, format="s16", layout="mono")
        frame.sample_rate = 22050
        for packet in stream.encode(frame):
            container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)


def test_audio_only_file_is_named(tmp_path: Path) -> None:
    _write_audio_only(tmp_path / "voice.m4a")
    code, message = _error(tmp_path / "voice.m4a")
    assert code == "no_video_stream"
    assert "audio-only" in message
    digests = hash_file(tmp_path / "voice.m4a", HashOptions(types=("md5",)))
    assert digests.ok
    assert [s.type for s in digests.signals] == ["md5"]


def test_corrupt_video_gets_a_clear_error(reference: Path, tmp_path: Path) -> None:
    data = (reference / "vpdq" / "videos" / "pattern-sd-grey-bar.mp4").read_bytes()
    garbled = bytearray(data)
    garbled[64:] = bytes(len(garbled) - 64)  # keep the first box, zero the rest
    (tmp_path / "garbled.mp4").write_bytes(bytes(garbled))
    code, _ = _error(tmp_path / "garbled.mp4")
    assert code in {"corrupt", "not_media"}


def test_vpdq_on_an_image_says_which_type_fits(tmp_path: Path) -> None:
    textured_image(100, 100).save(tmp_path / "photo.png")
    code, message = _error(tmp_path / "photo.png", types=("vpdq",))
    assert code == ErrorCode.NO_APPLICABLE_TYPE.value
    assert "--types pdq" in message


def test_truncated_video_hashes_what_is_there_and_says_so(reference: Path, tmp_path: Path) -> None:
    data = (reference / "vpdq" / "videos" / "pattern-hd-no-bar.mp4").read_bytes()
    (tmp_path / "half.mp4").write_bytes(data[: len(data) // 2])
    (tmp_path / "stub.mp4").write_bytes(data[:3000])
    half = hash_file(tmp_path / "half.mp4")
    assert half.ok
    assert any(
        re.fullmatch(
            r"The video declares [\d.]+ s but its frames stop at [\d.]+ s; it may be truncated\. "
            r"Only what is there was hashed\.",
            w,
        )
        for w in half.warnings
    ), half.warnings
    code, message = _error(tmp_path / "stub.mp4")
    assert code == "corrupt"
    assert "truncated" in message
