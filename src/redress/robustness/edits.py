"""The edits that copies of an image typically go through, each deterministic, on upright RGB.

Names are stable (reports and later comparisons key on them). Sizes are relative to the image so
the same edit means the same thing on a thumbnail and on a phone photo.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw, ImageEnhance, ImageFilter, ImageFont, ImageOps


@dataclass(frozen=True, slots=True)
class Edit:
    """A named transformation; `suffix` is the file type the edited copy is saved as."""

    name: str
    apply: Callable[[Image.Image], Image.Image]
    suffix: str = ".png"
    description: str = ""


def _scale(image: Image.Image, fx: float, fy: float) -> Image.Image:
    size = (max(1, round(image.width * fx)), max(1, round(image.height * fy)))
    return image.resize(size, Image.Resampling.LANCZOS)


def _crop(image: Image.Image, fraction: float) -> Image.Image:
    dx, dy = round(image.width * fraction), round(image.height * fraction)
    return image.crop((dx, dy, image.width - dx, image.height - dy))


def _pad(image: Image.Image, fraction: float, colour: str) -> Image.Image:
    border = (round(image.width * fraction), round(image.height * fraction))
    return ImageOps.expand(image, border=border, fill=colour)


def _noise(image: Image.Image) -> Image.Image:
    rng = np.random.default_rng(12345)
    pixels = np.asarray(image, dtype=np.float32)
    noisy = pixels + rng.normal(0.0, 12.0, size=pixels.shape)
    return Image.fromarray(np.clip(noisy, 0, 255).astype(np.uint8))


def _banner(image: Image.Image) -> Image.Image:
    banded = image.copy()
    top = round(image.height * 0.85)
    draw = ImageDraw.Draw(banded)
    draw.rectangle((0, top, image.width, image.height), fill=(20, 20, 20))
    size = max(8, (image.height - top) // 2)
    font = ImageFont.load_default(size=size)
    draw.text(
        (size // 2, top + size // 3), "shared via @someone - watch more", font=font, fill="white"
    )
    return banded


def _blur(image: Image.Image) -> Image.Image:
    return image.filter(ImageFilter.GaussianBlur(radius=max(1.0, max(image.size) / 400)))


EDITS: dict[str, Edit] = {
    edit.name: edit
    for edit in (
        Edit("jpeg50", lambda im: im, ".jpg", "re-encoded as JPEG quality 50"),
        Edit("downscale30", lambda im: _scale(im, 0.3, 0.3), description="scaled to 30 %"),
        Edit("blur", _blur, description="Gaussian blur, radius 1/400 of the long side"),
        Edit(
            "brightness",
            lambda im: ImageEnhance.Brightness(im).enhance(1.3),
            description="brightness +30 %",
        ),
        Edit("greyscale", lambda im: im.convert("L").convert("RGB"), description="greyscale"),
        Edit("noise", _noise, description="Gaussian noise, sigma 12"),
        Edit("banner", _banner, description="text banner over the bottom 15 %"),
        Edit("flip", ImageOps.mirror, description="mirrored left-right"),
        Edit(
            "rotate90",
            lambda im: im.transpose(Image.Transpose.ROTATE_90),
            description="rotated 90 degrees",
        ),
        Edit(
            "rotate4",
            lambda im: im.rotate(4, resample=Image.Resampling.BICUBIC, expand=True),
            description="rotated 4 degrees, black corners",
        ),
        Edit("crop5", lambda im: _crop(im, 0.05), description="5 % cropped from each side"),
        Edit("crop10", lambda im: _crop(im, 0.10), description="10 % cropped from each side"),
        Edit("pad10white", lambda im: _pad(im, 0.10, "white"), description="10 % white border"),
        Edit("pad20black", lambda im: _pad(im, 0.20, "black"), description="20 % black border"),
        Edit("stretch15", lambda im: _scale(im, 1.15, 1.0), description="15 % wider"),
    )
}


def save_edited(image: Image.Image, edit: Edit, path_without_suffix: str) -> str:
    """Apply `edit` and save the copy (JPEG quality 50 for the JPEG edit, PNG otherwise)."""
    edited = edit.apply(image).convert("RGB")
    target = path_without_suffix + edit.suffix
    if edit.suffix == ".jpg":
        edited.save(target, quality=50)
    else:
        edited.save(target, compress_level=1)
    return target


def _rotate(degrees: int, fill: str = "black") -> Callable[[Image.Image], Image.Image]:
    return lambda im: im.rotate(
        degrees, resample=Image.Resampling.BICUBIC, expand=True, fillcolor=fill
    )


#: Edits the variant set was *not* designed on: how well it generalises beyond the goal's edits.
UNSEEN_EDITS: dict[str, Edit] = {
    edit.name: edit
    for edit in (
        Edit("crop3", lambda im: _crop(im, 0.03), description="3 % cropped from each side"),
        Edit("crop7", lambda im: _crop(im, 0.075), description="7.5 % cropped from each side"),
        Edit("crop12", lambda im: _crop(im, 0.12), description="12 % cropped from each side"),
        Edit(
            "crop_corner10",
            lambda im: im.crop(
                (round(im.width * 0.1), round(im.height * 0.1), im.width, im.height)
            ),
            description="10 % cropped from the top and left only",
        ),
        Edit("rotate2", _rotate(2), description="rotated 2 degrees, black corners"),
        Edit("rotate-3", _rotate(-3), description="rotated -3 degrees, black corners"),
        Edit("rotate5", _rotate(5), description="rotated 5 degrees, black corners"),
        Edit("rotate4white", _rotate(4, "white"), description="rotated 4 degrees, white corners"),
        Edit("pad15grey", lambda im: _pad(im, 0.15, "gray"), description="15 % grey border"),
        Edit(
            "letterbox",
            lambda im: ImageOps.expand(im, border=(0, round(im.height * 0.25)), fill="black"),
            description="black bars above and below, 25 % each",
        ),
        Edit(
            "banner_top",
            lambda im: ImageOps.flip(_banner(ImageOps.flip(im))),
            description="banner over the top 15 % (text upside down)",
        ),
    )
}
