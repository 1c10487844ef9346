"""Safe image loading: every supported format and Pillow mode to an upright RGB pixel array,
refusing hostile files (decompression bombs, truncated or corrupt data) with specific errors.

Decoding dominates the cost of hashing a phone photo, so by default a large JPEG is decoded
in the DCT domain at 1/2, 1/4 or 1/8 scale (Pillow's draft mode) and then reduced to at most
`REDUCED_SIDE` pixels on its long side: the size at which Meta's reference PDQ tool hashes too,
so hashes agree with it and PDQ's own 64x64 downsampling does not notice the difference.

Memory is bounded by design. The decoded picture is the only full-size buffer: converting it to
RGB (alpha compositing, 16-bit and float rescaling, CMYK...) and reducing it happen tile by tile
into a small canvas, with the integer box reduction Pillow's `thumbnail` applies first, so the
result is identical to converting and thumbnailing the whole picture. `decode_cost` computes the
peak from the header; `load_image` refuses a file whose cost is over its budget before decoding.
"""

from __future__ import annotations

import math
import struct
import warnings
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pillow_heif
from PIL import Image, ImageOps, UnidentifiedImageError

from redress.hashing.errors import ErrorCode, HashingError

pillow_heif.register_heif_opener()

#: Default refusal limit, in pixels, checked from the header before any decoding.
DEFAULT_MAX_PIXELS = 100_000_000
#: Default memory one image (or video) may take to decode, in MiB (see `decode_cost`).
DEFAULT_MAX_DECODE_MB = 1024
#: Images are reduced to this many pixels on the long side before hashing (as the reference does).
REDUCED_SIDE = 512
#: Sides shorter than this cannot be hashed meaningfully (the reference's own limit).
MIN_SIDE = 5
#: Side of the tiles converted and reduced at a time (rounded to the reduction factor).
TILE_SIDE = 1024
#: What the interpreter, Pillow, numpy and ffmpeg take before any file (counted in every cost).
BASE_COST = 32 << 20

_ALPHA_MODES = frozenset({"RGBA", "RGBa", "LA", "La", "PA"})
_HIGH_DEPTH_MODES = frozenset({"I", "F", "I;16", "I;16L", "I;16B", "I;16N"})
#: Bytes per pixel of Pillow's storage; every other mode (RGB included) takes 4.
_STORED_BYTES = {"1": 1, "L": 1, "P": 1, "I;16": 2, "I;16L": 2, "I;16B": 2, "I;16N": 2}
#: Decoders that hold a whole second copy of the picture while decoding (libwebp, libheif,
#: libtiff's RGBA path); PNG, JPEG, GIF and BMP decode row by row into Pillow's buffer.
_STREAMING_DECODERS = frozenset({"PNG", "JPEG", "MPO", "GIF", "BMP", "DIB", "PPM", "TGA"})
#: Formats Pillow recognises but cannot render without outside programs: vector drawings.
_VECTOR_FORMATS = {"EPS": "an EPS (PostScript) drawing", "WMF": "a WMF drawing"}
_ORIENTATION = 0x0112


@dataclass(slots=True)
class LoadedImage:
    """Upright RGB pixels (H x W x 3, uint8) and what was noticed while loading them."""

    pixels: np.ndarray
    width: int
    height: int
    format: str
    warnings: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class DecodePlan:
    """How an opened image will be decoded, and the memory that takes at its peak."""

    width: int
    height: int
    mode: str
    turn_full_size: bool
    cost: int


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


def decode_cost(
    path: Path,
    *,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    reduce_to: int | None = REDUCED_SIDE,
    fast: bool = True,
) -> int:
    """Peak memory, in bytes, that `load_image` with these options needs for `path`.

    Read from the header only; raises `HashingError` as `load_image` would for a bad header.
    """
    check_readable_file(path)
    with _opened(path, max_pixels) as image:
        return _plan(image, reduce_to, fast).cost


def load_image(
    path: Path,
    *,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    reduce_to: int | None = REDUCED_SIDE,
    fast: bool = True,
    max_decode_bytes: int = DEFAULT_MAX_DECODE_MB << 20,
) -> LoadedImage:
    """Decode `path` to upright RGB, reduced to at most `reduce_to` px on the long side.

    `fast` lets JPEGs decode at a reduced scale; `reduce_to=None` keeps full resolution.
    A file whose decoding would take more than `max_decode_bytes` is refused before decoding.
    Raises `HashingError` with a specific code for anything that is not a hashable image.
    """
    check_readable_file(path)
    notes: list[str] = []
    with _opened(path, max_pixels) as image:
        plan = _plan(image, reduce_to, fast)
        if plan.cost > max_decode_bytes:
            raise over_budget(
                f"The image is {plan.width}x{plan.height} pixels in mode {plan.mode}",
                plan.cost,
                max_decode_bytes,
            )
        if _is_multi_frame(image):
            notes.append("Animated or multi-page image: only the first frame was hashed.")
        _decode(image)
        late_orientation = None
        if plan.turn_full_size:
            _apply_orientation(image, notes, in_place=True)
        elif image.format == "PNG" and "exif" in image.info:
            late_orientation = _orientation(image)
        width, height = image.size
        rgb = reduced_rgb(image, reduce_to)
        if late_orientation not in (None, 1):
            # Orientation found only once decoded (a PNG's eXIf after its pixels): turn the
            # small picture rather than make a second full-size copy.
            rgb.info["exif"] = image.info["exif"]
            rgb = _apply_orientation(rgb, notes)
            if late_orientation in (5, 6, 7, 8):
                width, height = height, width
        pixels = np.ascontiguousarray(np.asarray(rgb, dtype=np.uint8))
        return LoadedImage(pixels, width, height, image.format or "", notes)


def over_budget(what: str, cost: int, budget: int) -> HashingError:
    """The `too_large` error for a file whose decoding would take more memory than allowed."""
    return HashingError(
        ErrorCode.TOO_LARGE,
        f"{what}: decoding it needs about {_mb(cost)} MB, over the limit of {_mb(budget)} MB "
        "per file. Raise REDRESS_MAX_DECODE_MB (or --max-decode-mb) if the machine has the "
        "memory for it.",
    )


def _mb(count: int) -> int:
    return math.ceil(count / (1 << 20))


@contextmanager
def _opened(path: Path, max_pixels: int) -> Iterator[Image.Image]:
    """The image opened (header only) and checked: pixel limit, sides, renderable format."""
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
            if image.format in _VECTOR_FORMATS:
                raise HashingError(
                    ErrorCode.UNSUPPORTED_FORMAT,
                    f"This file is {_VECTOR_FORMATS[image.format]}, which has no pixels to hash; "
                    "export it as PNG and hash that.",
                )
            width, height = image.size
            if width * height > max_pixels:
                raise _too_large((width, height), max_pixels)
            if min(width, height) < MIN_SIDE:
                raise HashingError(
                    ErrorCode.TOO_SMALL,
                    f"The image is {width}x{height} pixels; both sides must be at least "
                    f"{MIN_SIDE} pixels to hash it meaningfully.",
                )
            yield image


def _plan(image: Image.Image, reduce_to: int | None, fast: bool) -> DecodePlan:
    """Choose the JPEG draft scale and compute the peak memory of decoding `image`."""
    width, height = image.size
    if fast and reduce_to is not None and image.format == "JPEG":
        scale = reduce_to / max(width, height)
        if scale < 1:
            image.draft("RGB", (math.ceil(width * scale), math.ceil(height * scale)))
            width, height = image.size
    stored = _STORED_BYTES.get(image.mode, 4) * width * height
    decoded = stored if image.format in _STREAMING_DECODERS else 2 * stored
    # Orientation in the header (JPEG, WebP, TIFF, HEIF) is applied at full size as before: a
    # transposed copy of the picture. A PNG's orientation may only be known after decoding.
    known = image.format != "PNG" or "exif" in image.info
    turn = known and _orientation(image) not in (None, 1)  # -1 (unreadable): tried, noted
    work = _conversion_cost(image.mode, "transparency" in image.info, width, height, reduce_to)
    cost = BASE_COST + decoded + (stored if turn else 0) + work
    return DecodePlan(width, height, image.mode, turn, cost)


def _conversion_cost(
    mode: str, transparency: bool, width: int, height: int, reduce_to: int | None
) -> int:
    """Memory of `reduced_rgb` beyond the decoded picture: one tile's conversion and the canvas."""
    if mode in _ALPHA_MODES or transparency:
        per_pixel = 4 + 16  # the tile, its RGBA copy, the white background, the composite, RGB
    elif mode in _HIGH_DEPTH_MODES:
        per_pixel = 4 + 4 + 8 * 4 + 1 + 4  # the tile, its bytes, float64 and temporaries, L, RGB
    else:
        per_pixel = 4 + 4  # the tile and its RGB conversion
    if reduce_to is None:
        return per_pixel * TILE_SIDE * TILE_SIDE + 7 * width * height  # canvas and its array
    fx, fy, _final = _reduction(width, height, reduce_to)
    tile = _tile(fx, width) * _tile(fy, height)
    canvas = 4 * math.ceil(width / fx) * math.ceil(height / fy)
    return per_pixel * tile + 2 * canvas


def _reduction(width: int, height: int, reduce_to: int) -> tuple[int, int, tuple[int, int]]:
    """The box reduction factors and final size of `thumbnail((reduce_to, reduce_to))`.

    Pillow's own rules (aspect rounding, `reducing_gap` 2.0), so the result is the same.
    """
    if width <= reduce_to and height <= reduce_to:
        return 1, 1, (width, height)
    aspect = width / height
    x = y = reduce_to
    if x / y >= aspect:
        x = max(
            min(math.floor(y * aspect), math.ceil(y * aspect), key=lambda n: abs(aspect - n / y)), 1
        )
    else:
        y = max(
            min(
                math.floor(x / aspect),
                math.ceil(x / aspect),
                key=lambda n: 0 if n == 0 else abs(aspect - x / n),
            ),
            1,
        )
    return int(width / x / 2.0) or 1, int(height / y / 2.0) or 1, (x, y)


def _tile(factor: int, side: int) -> int:
    """A tile side: a multiple of the reduction factor near `TILE_SIDE`, at most the side."""
    return min(side, max(factor, TILE_SIDE // factor * factor))


def reduced_rgb(image: Image.Image, reduce_to: int | None) -> Image.Image:
    """`to_rgb` of the whole picture then `thumbnail((reduce_to,) * 2, BICUBIC)`, tile by tile.

    Each tile (a multiple of the box reduction factor, so reduction blocks never straddle two
    tiles) is converted and box-reduced into a small canvas; the canvas is then resampled to the
    final size with Pillow's own box, exactly as `thumbnail` does after its own `reduce`.
    """
    width, height = image.size
    extrema = _extrema(image) if image.mode in _HIGH_DEPTH_MODES else None
    if reduce_to is None:
        fx, fy, final = 1, 1, (width, height)
    else:
        fx, fy, final = _reduction(width, height, reduce_to)
    tile_w, tile_h = _tile(fx, width), _tile(fy, height)
    if tile_w >= width and tile_h >= height:
        rgb = to_rgb(image, extrema)  # may be `image` itself, which the caller is done with
        if final != (width, height):
            rgb.thumbnail(final, Image.Resampling.BICUBIC)
        return rgb
    canvas = Image.new("RGB", (math.ceil(width / fx), math.ceil(height / fy)))
    for top in range(0, height, tile_h):
        for left in range(0, width, tile_w):
            box = (left, top, min(width, left + tile_w), min(height, top + tile_h))
            piece = to_rgb(image.crop(box), extrema)
            if (fx, fy) != (1, 1):
                piece = piece.reduce((fx, fy))
            canvas.paste(piece, (left // fx, top // fy))
    if final == (width, height):
        return canvas
    return canvas.resize(final, Image.Resampling.BICUBIC, box=(0, 0, width / fx, height / fy))


def _extrema(image: Image.Image) -> tuple[float, float]:
    """Lowest and highest sample of a deep image, a tile at a time."""
    low, high = math.inf, -math.inf
    width, height = image.size
    for top in range(0, height, TILE_SIDE):
        for left in range(0, width, TILE_SIDE):
            box = (left, top, min(width, left + TILE_SIDE), min(height, top + TILE_SIDE))
            values = np.asarray(image.crop(box), dtype=np.float64)
            low, high = min(low, float(values.min())), max(high, float(values.max()))
    return low, high


def _too_large(size: tuple[int, int] | None, max_pixels: int) -> HashingError:
    shown = f"{size[0]}x{size[1]} = {size[0] * size[1]:,} pixels" if size else "too many pixels"
    return HashingError(
        ErrorCode.TOO_LARGE,
        f"The image is {shown}, over the limit of {max_pixels:,}; it was refused before decoding "
        "as a possible decompression bomb. Raise REDRESS_MAX_IMAGE_PIXELS (or --max-pixels) if "
        "it is a genuine image.",
    )


# What Pillow's decoders raise on malformed data: besides OSError and friends, some plugins index
# past the end of a short read (IndexError) or unpack too few bytes (struct.error).
_DECODER_ERRORS = (OSError, EOFError, SyntaxError, ValueError, IndexError, struct.error, zlib.error)


def _is_multi_frame(image: Image.Image) -> bool:
    """Whether the file holds more than one frame; a damaged second frame counts as one frame
    (the first is still hashed, or refused by `_decode` if it is damaged too)."""
    try:
        return bool(getattr(image, "is_animated", False))
    except _DECODER_ERRORS:
        return False


def _decode(image: Image.Image) -> None:
    try:
        image.load()
    except _DECODER_ERRORS as exc:
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


def _orientation(image: Image.Image) -> int | None:
    """The EXIF Orientation value; None without one, -1 when the EXIF data is unreadable."""
    try:
        value = image.getexif().get(_ORIENTATION)
    except (OSError, SyntaxError, ValueError, KeyError, TypeError, AttributeError):
        return -1
    return value if isinstance(value, int) else None


def _apply_orientation(
    image: Image.Image, notes: list[str], *, in_place: bool = False
) -> Image.Image:
    """Turn the picture upright as its EXIF Orientation tag says; hashes must not depend on it.

    `in_place` swaps the picture's own buffer for the turned one, so at most two full-size
    buffers exist at once.
    """
    try:
        if in_place:
            ImageOps.exif_transpose(image, in_place=True)
            return image
        upright = ImageOps.exif_transpose(image)
    except (OSError, SyntaxError, ValueError, KeyError, TypeError, AttributeError):
        notes.append("The EXIF orientation tag is unreadable; the image was hashed as stored.")
        return image
    return upright if upright is not None else image


def to_rgb(image: Image.Image, extrema: tuple[float, float] | None = None) -> Image.Image:
    """Any Pillow mode to RGB: transparency composited on white, deep images rescaled to 8 bits.

    `extrema`: the deep image's lowest and highest samples, when `image` is a tile of it.
    """
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
        low, high = extrema or (float(values.min()), float(values.max()))
        span = high - low if high > low else 1.0
        eight_bit = np.round((values - low) * (255.0 / span)).astype(np.uint8)
        return Image.fromarray(eight_bit).convert("RGB")
    if mode == "RGB":
        return image
    try:
        return image.convert("RGB")
    except ValueError:
        return image.convert("L").convert("RGB")
