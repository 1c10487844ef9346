"""PDQ hashing through `pdqhash` (Meta's reference C++), including the 8 dihedral variants.

The dihedral variants are the hashes of the picture rotated and flipped, so that a platform can
match copies that were mirrored or turned sideways. They are computed by transforming the decoded
pixels and hashing each, not with PDQ's one-pass DCT shortcut: the shortcut flips the 64x64
downsample, and PDQ's box filter is not symmetric, so on fine textures it lands 20-30 bits from
the hash of the actually flipped picture. The image is decoded once; each extra hash costs ~3 ms.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pdqhash

from redress.hashing.images import DEFAULT_MAX_PIXELS, REDUCED_SIDE, load_image
from redress.hashing.signal_types import PdqSignal

#: The dihedral variants in output order (PDQ's order). Each is the hash of the picture after that
#: transformation, named as Pillow's `Image.Transpose` names it: rotations are counter-clockwise;
#: PDQ's own names are Rotate90/180/270, FlipX (top-bottom), FlipY (left-right), FlipPlus1
#: (transpose) and FlipMinus1 (transverse).
_TRANSFORMS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "original": lambda a: a,
    "rotate90": lambda a: np.rot90(a, 1),
    "rotate180": lambda a: np.rot90(a, 2),
    "rotate270": lambda a: np.rot90(a, 3),
    "flip_top_bottom": lambda a: a[::-1],
    "flip_left_right": lambda a: a[:, ::-1],
    "transpose": lambda a: a.transpose(1, 0, 2),
    "transverse": lambda a: np.rot90(a, 2).transpose(1, 0, 2),
}
DIHEDRAL_VARIANTS: tuple[str, ...] = tuple(_TRANSFORMS)


@dataclass(frozen=True, slots=True)
class PdqHash:
    """A PDQ hash (64 lowercase hex) with its quality (0-100) and which variant it is."""

    value: str
    quality: int
    variant: str | None = None

    @property
    def trusted(self) -> bool:
        """Quality high enough (>= 50) for matches on this hash to be meaningful."""
        return self.quality >= PdqSignal.min_quality


def _bits_to_hex(bits: np.ndarray) -> str:
    return bytes(np.packbits(np.asarray(bits, dtype=np.uint8))).hex()


def _as_rgb_array(pixels: np.ndarray) -> np.ndarray:
    if pixels.ndim != 3 or pixels.shape[2] != 3:
        raise ValueError(f"expected an H x W x 3 RGB array, got shape {pixels.shape}")
    return np.ascontiguousarray(pixels, dtype=np.uint8)


def pdq_from_pixels(pixels: np.ndarray) -> PdqHash:
    """PDQ hash of an RGB pixel array (H x W x 3, uint8)."""
    bits, quality = pdqhash.compute(_as_rgb_array(pixels))
    return PdqHash(_bits_to_hex(bits), int(quality))


def pdq_dihedral_from_pixels(pixels: np.ndarray) -> list[PdqHash]:
    """The 8 dihedral PDQ hashes of an RGB array, original first (variant None)."""
    rgb = _as_rgb_array(pixels)
    hashes = []
    for name, transform in _TRANSFORMS.items():
        digest = pdq_from_pixels(transform(rgb))
        hashes.append(PdqHash(digest.value, digest.quality, None if name == "original" else name))
    return hashes


@dataclass(frozen=True, slots=True)
class ImagePdq:
    """The PDQ hashes of one image file and the warnings raised while loading it."""

    hashes: list[PdqHash]
    warnings: list[str]


def hash_image_file(
    path: Path,
    *,
    dihedral: bool = False,
    fast: bool = True,
    max_pixels: int = DEFAULT_MAX_PIXELS,
) -> ImagePdq:
    """PDQ of an image file (upright, reduced to 512 px as the reference tool does).

    With `dihedral`, all 8 orientations (original first). Raises `HashingError` for files that
    cannot be hashed. A quality below 50 adds a warning; the hash is still returned.
    """
    image = load_image(path, max_pixels=max_pixels, reduce_to=REDUCED_SIDE, fast=fast)
    hashes = pdq_dihedral_from_pixels(image.pixels) if dihedral else [pdq_from_pixels(image.pixels)]
    notes = list(image.warnings)
    if not hashes[0].trusted:
        notes.append(low_quality_warning(hashes[0].quality))
    return ImagePdq(hashes, notes)


def low_quality_warning(quality: int) -> str:
    """The warning attached to a hash of quality below 50."""
    return (
        f"PDQ quality {quality} is below {PdqSignal.min_quality}: the image is too flat or "
        "featureless for reliable matching."
    )
