"""The photo corpus: Meta's reference photos plus scikit-image's bundled sample photos.

Ordinary, benign pictures only. Near-duplicates are left out on purpose (one of the four
exif-rotn shots of the same desk, one of skimage's two copies of the cat), because the harness
counts any match between two corpus images as a false match.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

from redress.hashing.pdq import pdq_from_pixels

#: Long side of corpus images: big enough to be photo-like, small enough to edit quickly.
MAX_SIDE = 1600

_REFERENCE_PHOTOS = (
    "pdq/bridge-mods/aaa-orig.jpg",
    "pdq/reg-test-input/exif-rotn/exif-rotn-1.jpg",
    "pdq/reg-test-input/pen-and-coaster.png",
    *(
        f"pdq/reg-test-input/labelme-subset/{name}.jpg"
        for name in ("q0003", "q0004", "q0122", "q0291", "q0746", "q1050", "q2821")
    ),
)
_SKIMAGE_PHOTOS = (
    "astronaut",
    "brick",
    "camera",
    "cell",
    "chelsea",
    "clock",
    "coffee",
    "coins",
    "grass",
    "gravel",
    "hubble_deep_field",
    "immunohistochemistry",
    "moon",
    "retina",
    "rocket",
)


@dataclass(frozen=True, slots=True)
class CorpusImage:
    """One upright RGB photo with a stable identifier and where it came from."""

    id: str
    source: str
    image: Image.Image


def _fit(image: Image.Image) -> Image.Image:
    rgb = ImageOps.exif_transpose(image).convert("RGB")
    rgb.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.LANCZOS)
    return rgb


def load_corpus(reference: Path | None, *, include_skimage: bool = True) -> list[CorpusImage]:
    """The corpus: reference photos (if `reference` exists) and skimage's (if installed).

    Photos whose PDQ quality is under 50 are left out: PDQ's guidance is not to match on them.
    """
    return [item for item in _all_photos(reference, include_skimage) if _trusted(item.image)]


def _trusted(image: Image.Image) -> bool:
    reduced = image.copy()
    reduced.thumbnail((512, 512), Image.Resampling.BICUBIC)
    return pdq_from_pixels(np.asarray(reduced)).trusted


def _all_photos(reference: Path | None, include_skimage: bool) -> list[CorpusImage]:
    images: list[CorpusImage] = []
    if reference is not None and reference.is_dir():
        for relative in _REFERENCE_PHOTOS:
            path = reference / relative
            if path.is_file():
                with Image.open(path) as raw:
                    images.append(
                        CorpusImage(f"ref:{path.stem}", f"reference/{relative}", _fit(raw))
                    )
    if include_skimage:
        images.extend(_skimage_photos())
    return images


def _skimage_photos() -> list[CorpusImage]:
    try:
        from skimage import data
    except ImportError:
        return []
    found = []
    for name in _SKIMAGE_PHOTOS:
        try:
            pixels = np.asarray(getattr(data, name)())
        except Exception:  # noqa: S112 - a sample missing from this scikit-image build is skipped
            continue
        if pixels.dtype != np.uint8:
            pixels = (255 * (pixels - pixels.min()) / max(1e-9, np.ptp(pixels))).astype(np.uint8)
        found.append(
            CorpusImage(f"skimage:{name}", f"skimage.data.{name}", _fit(Image.fromarray(pixels)))
        )
    return found
