"""PDQ against Meta's reference outputs and photos: bit-compatibility, orientation, modes,
and the fast decode path."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from redress.hashing import hash_image_file, pdq_dihedral_from_pixels, pdq_from_pixels
from redress.hashing.pdq import DIHEDRAL_VARIANTS
from redress.hashing.signal_types import hamming_distance
from tests.conftest import textured_image

# The README's figures (measured by bench/reference_agreement.py): the worst distance from the
# reference tool's hashes of its bridge photos, with the default decode and with --full-decode.
BRIDGE_BITS = 4
BRIDGE_FULL_DECODE_BITS = 2


def _expected(reference: Path) -> list[tuple[str, int, Path]]:
    rows = (reference / "pdq" / "expected-bridge-mods.csv").read_text().splitlines()
    return [(h, int(q), reference / "pdq" / p) for h, q, p in csv.reader(rows)]


def _photos(reference: Path) -> list[Path]:
    pdq = reference / "pdq"
    return sorted(
        [
            *pdq.glob("bridge-mods/*.jpg"),
            *pdq.glob("reg-test-input/**/*.jpg"),
            pdq / "reg-test-input" / "pen-and-coaster.png",
            pdq / "misc-images" / "c.png",
        ]
    )


def _pdq(path: Path, **kwargs: bool) -> str:
    return hash_image_file(path, **kwargs).hashes[0].value


@pytest.mark.parametrize(("fast", "bound"), [(True, BRIDGE_BITS), (False, BRIDGE_FULL_DECODE_BITS)])
def test_bridge_mods_agree_with_the_reference_tool(reference: Path, fast: bool, bound: int) -> None:
    rows = _expected(reference)
    assert len(rows) == 12
    for expected, quality, path in rows:
        result = hash_image_file(path, fast=fast).hashes[0]
        distance = hamming_distance(result.value, expected)
        assert distance <= bound, f"{path.name}: {distance} bits from the reference"
        assert result.quality == quality
        with Image.open(path) as image:
            if max(image.size) <= 512:
                assert result.value == expected, f"{path.name} must match exactly"


def test_every_pillow_mode_hashes_like_the_original(reference: Path) -> None:
    folder = reference / "pdq" / "misc-images" / "modes"
    original = _pdq(folder / "original.jpg")
    files = [p for p in sorted(folder.iterdir()) if p.suffix in {".jpg", ".png", ".webp"}]
    assert len(files) >= 13
    for path in files:
        distance = hamming_distance(_pdq(path), original)
        assert distance <= 4, f"{path.name}: {distance} bits from original.jpg"


# EXIF Orientation value -> quarter turns (numpy's rot90, counter-clockwise) that make it upright.
_UPRIGHT_TURNS = {1: 0, 3: 2, 6: -1, 8: 1}


def _hash_of_turned_pixels(path: Path, turns: int) -> str:
    with Image.open(path) as raw:
        pixels = np.rot90(np.asarray(raw.convert("RGB")), k=turns)
    image = Image.fromarray(np.ascontiguousarray(pixels))
    image.thumbnail((512, 512), Image.Resampling.BICUBIC)
    return pdq_from_pixels(np.asarray(image)).value


@pytest.mark.parametrize("orientation", [1, 3, 6, 8])
def test_exif_orientation_is_applied_before_hashing(reference: Path, orientation: int) -> None:
    path = reference / "pdq" / "reg-test-input" / "exif-rotn" / f"exif-rotn-{orientation}.jpg"
    with Image.open(path) as raw:
        assert raw.getexif().get(0x0112) == orientation
    ours = _pdq(path)
    upright = _hash_of_turned_pixels(path, _UPRIGHT_TURNS[orientation])
    assert hamming_distance(ours, upright) <= 10
    if orientation != 1:
        assert hamming_distance(ours, _hash_of_turned_pixels(path, 0)) > 31


def test_generated_photo_stored_sideways_hashes_like_upright(tmp_path: Path) -> None:
    picture = textured_image(640, 480, seed=3)
    picture.save(tmp_path / "upright.jpg", quality=95)
    sideways = picture.transpose(Image.Transpose.ROTATE_90)
    exif = Image.Exif()
    exif[0x0112] = 6
    sideways.save(tmp_path / "sideways.jpg", quality=95, exif=exif)
    distance = hamming_distance(_pdq(tmp_path / "upright.jpg"), _pdq(tmp_path / "sideways.jpg"))
    assert distance <= 8


def test_fast_path_stays_within_10_bits_of_full_decode(reference: Path) -> None:
    photos = _photos(reference)
    assert len(photos) >= 30
    worst = 0
    for path in photos:
        distance = hamming_distance(_pdq(path), _pdq(path, fast=False))
        worst = max(worst, distance)
        assert distance <= 10, f"{path.name}: fast path drifts {distance} bits"
    assert worst <= 10


def test_dihedral_variants_find_the_transformed_photos(reference: Path) -> None:
    folder = reference / "pdq" / "reg-test-input" / "dih"
    variants = hash_image_file(folder / "bridge-1-original.jpg", dihedral=True).hashes
    assert [h.variant for h in variants] == [None, *DIHEDRAL_VARIANTS[1:]]
    assert variants[0].value == _pdq(folder / "bridge-1-original.jpg")
    for path in sorted(folder.glob("bridge-*.jpg")):
        plain = _pdq(path)
        best = min(hamming_distance(plain, v.value) for v in variants)
        assert best <= 31, f"{path.name}: no dihedral variant within 31 bits ({best})"
    assert hamming_distance(_pdq(folder / "bridge-5-flipx.jpg"), variants[0].value) > 31


@pytest.mark.parametrize("seed", [0, 1])
def test_each_dihedral_variant_is_the_hash_of_the_transformed_picture(seed: int) -> None:
    picture = textured_image(301, 203, seed=seed)  # odd sizes: no symmetry to hide behind
    variants = pdq_dihedral_from_pixels(np.asarray(picture))
    by_name = {h.variant or "original": h.value for h in variants}
    for name, pillow in [
        ("rotate90", Image.Transpose.ROTATE_90),
        ("rotate180", Image.Transpose.ROTATE_180),
        ("rotate270", Image.Transpose.ROTATE_270),
        ("flip_top_bottom", Image.Transpose.FLIP_TOP_BOTTOM),
        ("flip_left_right", Image.Transpose.FLIP_LEFT_RIGHT),
        ("transpose", Image.Transpose.TRANSPOSE),
        ("transverse", Image.Transpose.TRANSVERSE),
    ]:
        assert by_name[name] == pdq_from_pixels(np.asarray(picture.transpose(pillow))).value, name
    assert len(set(by_name.values())) == 8


@pytest.mark.parametrize("name", ["small.jpg", "wee.jpg"])
def test_tiny_reference_images_hash_with_a_quality(reference: Path, name: str) -> None:
    result = hash_image_file(reference / "pdq" / "misc-images" / name)
    digest = result.hashes[0]
    assert len(digest.value) == 64
    assert 0 <= digest.quality <= 100
    if digest.quality < 50:
        assert any("below 50" in w for w in result.warnings)
