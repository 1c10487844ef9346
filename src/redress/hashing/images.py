"""Safe image loading: every supported format and Pillow mode to an upright RGB pixel array,
refusing hostile files (decompression bombs, truncated or corrupt data) with specific errors.

Decoding dominates the cost of hashing a phone photo, so by default a large JPEG is decoded
in the DCT domain at 1/2, 1/4 or 1/8 scale (Pillow's draft mode) and then reduced to at most
`REDUCED_SIDE` pixels on its long side: the size at which Meta's reference PDQ tool hashes too,
so hashes agree with it and PDQ's own 64x64 downsampling does not notice the difference.
"""

from __future__ import annotations

import math
import warnings
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pillow_heif
from PIL import Image, ImageOps, UnidentifiedImageError

from redress.hashing.errors import ErrorCode, HashingError

pillow_heif.register_heif_opener()

#: Default refusal limit, in pixels, checked from the header before any decoding.
DEFAULT_MAX_PIXELS = 100_000_000
#: Images are reduced to this many pixels on the long side before hashing (as the reference does).
REDUCED_SIDE = 512
#: Sides shorter than this cannot be hashed meaningfully (the reference's own limit).
MIN_SIDE = 5

_ALPHA_MODES = frozenset({"RGBA", "RGBa", "LA", "La", "PA"})
_HIGH_DEPTH_MODES = frozenset({"I", "F", "I;16", "I;16L", "I;16B", "I;16N"})


@dataclass(slots=True)
class LoadedImage:
    """Upright RGB pixels (H x W x 3, uint8) and what was noticed while loading them."""

    pixels: np.ndarray
    width: int
    height: int
    format: str
    warnings: list[str] = field(default_factory=list)


def check_readable_file(path: Path) -> int:
    """The file's size in bytes; a clear error if it is missing, not a file or empty."""
    try:
        stat = path.stat()
    except FileNotFoundError:
        raise HashingError(ErrorCode.NOT_FOUND, f"No such file: {path}.") from None
    except OSError as exc:
        raise HashingError(ErrorCode.UNREADABLE, f"Cannot read {path}: {exc.strerror}.") from None
    if not path.is_file():
        raise HashingError(ErrorCode.NOT_A_FILE, f"{path} is not a regular file.")
    if stat.st_size == 0:
        raise HashingError(
            ErrorCode.EMPTY_FILE, "The file is empty (0 bytes); it may not have finished copying."
        )
    return stat.st_size


def load_image(
    path: Path,
    *,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    reduce_to: int | None = REDUCED_SIDE,
    fast: bool = True,
) -> LoadedImage:
    """Decode `path` to upright RGB, reduced to at most `reduce_to` px on the long side.

    `fast` lets JPEGs decode at a reduced scale; `reduce_to=None` keeps full resolution.
    Raises `HashingError` with a specific code for anything that is not a hashable image.
    """
    check_readable_file(path)
    notes: list[str] = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        try:
            image = Image.open(path)
        except Image.DecompressionBombError:
            raise _too_large(None, max_pixels) from None
        except UnidentifiedImageError:
            raise HashingError(
                ErrorCode.NOT_MEDIA, "Not an image this tool can read (the format is unknown)."
            ) from None
        except (OSError, SyntaxError, ValueError, EOFError) as exc:
            raise HashingError(
                ErrorCode.CORRUPT, f"The image header is damaged and cannot be read ({exc})."
            ) from None
        with image:
            width, height = image.size
            if width * height > max_pixels:
                raise _too_large((width, height), max_pixels)
            if min(width, height) < MIN_SIDE:
                raise HashingError(
                    ErrorCode.TOO_SMALL,
                    f"The image is {width}x{height} pixels; both sides must be at least "
                    f"{MIN_SIDE} pixels to hash it meaningfully.",
                )
            if getattr(image, "is_animated", False):
                notes.append("Animated or multi-page image: only the first frame was hashed.")
            if fast and reduce_to is not None and image.format == "JPEG":
                scale = reduce_to / max(width, height)
                if scale < 1:
                    image.draft("RGB", (math.ceil(width * scale), math.ceil(height * scale)))
            _decode(image)
            upright = _apply_orientation(image, notes)
            rgb = to_rgb(upright)
            if reduce_to is not None and max(rgb.size) > reduce_to:
                rgb.thumbnail((reduce_to, reduce_to), Image.Resampling.BICUBIC)
            pixels = np.ascontiguousarray(np.asarray(rgb, dtype=np.uint8))
            return LoadedImage(pixels, upright.width, upright.height, image.format or "", notes)


def _too_large(size: tuple[int, int] | None, max_pixels: int) -> HashingError:
    shown = f"{size[0]}x{size[1]} = {size[0] * size[1]:,} pixels" if size else "too many pixels"
    return HashingError(
        ErrorCode.TOO_LARGE,
        f"The image is {shown}, over the limit of {max_pixels:,}; it was refused before decoding "
        "as a possible decompression bomb. Raise REDRESS_MAX_IMAGE_PIXELS (or --max-pixels) if "
        "it is a genuine image.",
    )


def _decode(image: Image.Image) -> None:
    try:
        image.load()
    except (OSError, EOFError, SyntaxError, ValueError, zlib.error) as exc:
        text = str(exc)
        if isinstance(exc, EOFError) or "truncated" in text or "end of file" in text.lower():
            raise HashingError(
                ErrorCode.TRUNCATED,
                "The image file is truncated (it ends before the picture does); it may not have "
                "finished downloading or copying. Hash a complete copy.",
            ) from None
        raise HashingError(
            ErrorCode.CORRUPT, f"The image data is damaged and cannot be decoded ({text})."
        ) from None


def _apply_orientation(image: Image.Image, notes: list[str]) -> Image.Image:
    """Turn the picture upright as its EXIF Orientation tag says; hashes must not depend on it."""
    try:
        upright = ImageOps.exif_transpose(image)
    except (OSError, SyntaxError, ValueError, KeyError, TypeError, AttributeError):
        notes.append("The EXIF orientation tag is unreadable; the image was hashed as stored.")
        return image
    return upright if upright is not None else image


def to_rgb(image: Image.Image) -> Image.Image:
    """Any Pillow mode to RGB: transparency composited on white, deep images rescaled to 8 bits."""
    mode = image.mode
    has_transparency = "transparency" in image.info
    if mode in _ALPHA_MODES or has_transparency:
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    if mode in _HIGH_DEPTH_MODES:
        # PDQ ignores brightness offset and contrast gain, so a min-max stretch of 16-bit, 32-bit
        # or float samples to 0-255 keeps all the structure and changes nothing else.
        values = np.asarray(image, dtype=np.float64)
        low, high = float(values.min()), float(values.max())
        span = high - low if high > low else 1.0
        eight_bit = np.round((values - low) * (255.0 / span)).astype(np.uint8)
        return Image.fromarray(eight_bit).convert("RGB")
    if mode == "RGB":
        return image
    try:
        return image.convert("RGB")
    except ValueError:
        return image.convert("L").convert("RGB")
