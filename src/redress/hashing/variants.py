"""Hash variants that catch edited copies plain PDQ misses (specification version 1).

PDQ survives re-encoding, resizing, blur and colour changes, but not crops, borders, small
rotations or a caption bar. The hub never sees images, so what depends on the picture is computed
where the picture is:

- on the survivor's device, `bank_variants`: extra PDQ hashes of the original (centred crops,
  the picture without its top or bottom 15 %, small rotations), sent with the original hash;
- on the platform's side, `query_variants`: the upload's 8 orientations, the upload with uniform
  borders trimmed (and its 8 orientations), and the upload without its top or bottom 15 %.

Everything starts from the *canonical image*: the upright RGB picture reduced to at most 512 px on
its long side (bicubic), exactly the pixels the original PDQ hash is computed from. The full,
versioned specification (order, parameters, rounding) is in docs/variants.md; the browser portal
and other implementations must reproduce it exactly, and the tests pin it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from redress.hashing.images import (
    DEFAULT_MAX_DECODE_MB,
    DEFAULT_MAX_PIXELS,
    REDUCED_SIDE,
    load_image,
)
from redress.hashing.pdq import PdqHash, pdq_dihedral_from_pixels, pdq_from_pixels

SPEC_VERSION = 1

#: Borders are trimmed at this resolution, before reduction, so the content keeps its detail.
TRIM_SIDE = 1024
#: A border line may differ from the border colour by at most this much (0-255) in any channel.
TRIM_TOLERANCE = 10
#: Borders thinner than this share of the side are ignored (JPEG edge noise, hairlines).
TRIM_MIN_SHARE = 0.01


def _centred_crop(share: float) -> Callable[[Image.Image], Image.Image]:
    def crop(image: Image.Image) -> Image.Image:
        dx, dy = round(image.width * share), round(image.height * share)
        return image.crop((dx, dy, image.width - dx, image.height - dy))

    return crop


def _keep_top(image: Image.Image) -> Image.Image:
    return image.crop((0, 0, image.width, round(image.height * 0.85)))


def _keep_bottom(image: Image.Image) -> Image.Image:
    return image.crop((0, image.height - round(image.height * 0.85), image.width, image.height))


def _rotation(degrees: int) -> Callable[[Image.Image], Image.Image]:
    def rotate(image: Image.Image) -> Image.Image:
        return image.rotate(
            degrees, resample=Image.Resampling.BICUBIC, expand=True, fillcolor=(0, 0, 0)
        )

    return rotate


@dataclass(frozen=True, slots=True)
class VariantSpec:
    """A named transformation of the canonical image."""

    name: str
    transform: Callable[[Image.Image], Image.Image]


#: Bank-side variants, in output order (after the original hash).
BANK_VARIANTS: tuple[VariantSpec, ...] = (
    *(VariantSpec(f"crop{p:03d}", _centred_crop(p / 1000)) for p in (25, 50, 75, 100, 125)),
    VariantSpec("top85", _keep_top),
    VariantSpec("bottom85", _keep_bottom),
    *(VariantSpec(f"rotate{d:+d}", _rotation(d)) for d in (-6, -4, -2, 2, 4, 6)),
)
#: Query-side views besides the orientations, in output order.
QUERY_CROPS: tuple[VariantSpec, ...] = (
    VariantSpec("top85", _keep_top),
    VariantSpec("bottom85", _keep_bottom),
)


def canonical_image(pixels: np.ndarray) -> Image.Image:
    """The canonical image from upright RGB pixels already reduced to at most 512 px."""
    return Image.fromarray(np.ascontiguousarray(pixels, dtype=np.uint8))


def bank_variants(canonical: Image.Image) -> list[PdqHash]:
    """The original PDQ and every bank variant of a canonical image, original first."""
    hashes = [pdq_from_pixels(np.asarray(canonical))]
    for spec in BANK_VARIANTS:
        digest = pdq_from_pixels(np.asarray(spec.transform(canonical)))
        hashes.append(PdqHash(digest.value, digest.quality, spec.name))
    return hashes


def trim_uniform_borders(image: Image.Image) -> Image.Image | None:
    """The picture without uniform borders (pads, letterbox bars), or None if it has none.

    A border is a run of outer rows (or columns) every pixel of which is within
    `TRIM_TOLERANCE` of that side's outermost line's mean colour. Runs thinner than 1 % of the
    side are ignored, and nothing is trimmed if less than 10 % of either side would remain.
    """
    pixels = np.asarray(image.convert("RGB"), dtype=np.int16)
    height, width = pixels.shape[:2]
    box = border_box(border_runs(pixels), height, width)
    if box is None:
        return None
    top, bottom, left, right = box
    return image.crop((left, top, width - right, height - bottom))


def border_runs(pixels: np.ndarray) -> tuple[int, int, int, int]:
    """Uniform runs (top, bottom, left, right) of an int16 RGB array, in lines."""
    columns = pixels.transpose(1, 0, 2)
    return (
        uniform_run(pixels),
        uniform_run(pixels[::-1]),
        uniform_run(columns),
        uniform_run(columns[::-1]),
    )


def border_box(
    runs: tuple[int, int, int, int], height: int, width: int
) -> tuple[int, int, int, int] | None:
    """The borders to cut (top, bottom, left, right): runs under 1 % of the side dropped; None
    when nothing is left to cut or less than 10 % of a side would remain."""
    top, bottom, left, right = runs
    top, bottom = (v if v >= height * TRIM_MIN_SHARE else 0 for v in (top, bottom))
    left, right = (v if v >= width * TRIM_MIN_SHARE else 0 for v in (left, right))
    if not (top or bottom or left or right):
        return None
    if height - top - bottom < height * 0.1 or width - left - right < width * 0.1:
        return None
    return top, bottom, left, right


def uniform_run(lines: np.ndarray) -> int:
    """How many leading lines (axis 0) lie within tolerance of the first line's mean colour.

    `lines` is an int16 array (lines, pixels, channels); pass a reversed or transposed view for
    the other sides.
    """
    reference = lines[0].mean(axis=0)
    deviation = np.abs(lines - reference).max(axis=(1, 2))
    outside = np.nonzero(deviation > TRIM_TOLERANCE)[0]
    return int(outside[0]) if len(outside) else len(lines)


def query_variants(canonical: Image.Image, trim_source: Image.Image | None) -> list[PdqHash]:
    """What a query is compared with: 8 orientations of the canonical image, the same of the
    border-trimmed picture (from `trim_source`, a larger rendering when available), and the
    top and bottom 85 %. Names: None (as is), `rotate90`..., `trimmed`, `trimmed+rotate90`...,
    `top85`, `bottom85`."""
    hashes = pdq_dihedral_from_pixels(np.asarray(canonical))
    trimmed = trim_uniform_borders(trim_source or canonical)
    if trimmed is not None:
        trimmed.thumbnail((REDUCED_SIDE, REDUCED_SIDE), Image.Resampling.BICUBIC)
        for digest in pdq_dihedral_from_pixels(np.asarray(trimmed)):
            name = "trimmed" if digest.variant is None else f"trimmed+{digest.variant}"
            hashes.append(PdqHash(digest.value, digest.quality, name))
    for spec in QUERY_CROPS:
        digest = pdq_from_pixels(np.asarray(spec.transform(canonical)))
        hashes.append(PdqHash(digest.value, digest.quality, spec.name))
    return hashes


def query_variants_of_file(
    path: Path,
    canonical: Image.Image,
    *,
    fast: bool = True,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    max_decode_bytes: int = DEFAULT_MAX_DECODE_MB << 20,
) -> list[PdqHash]:
    """Query hashes of an image file whose canonical image is already decoded; the file is
    decoded again (at up to 1024 px) only when the canonical image shows uniform borders."""
    larger = None
    if trim_uniform_borders(canonical) is not None:
        bigger = load_image(
            path,
            max_pixels=max_pixels,
            fast=fast,
            reduce_to=TRIM_SIDE,
            max_decode_bytes=max_decode_bytes,
        )
        larger = canonical_image(bigger.pixels)
    return query_variants(canonical, larger)
