"""Photo hashing throughput on phone-size (12 MP) JPEGs, one core: the naive path (Pillow full
decode + pdqhash on every pixel) against Redress's path (DCT-domain draft decode, reduction to
512 px, pdqhash), measured side by side in one run, with the hash drift in bits.

The 12 MP JPEGs are generated at run time from the reference photos (nothing large is committed).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import pdqhash
from PIL import Image, ImageOps

from _common import reference_dir, write_result
from redress.hashing import hash_image_file
from redress.hashing.signal_types import hamming_distance

PHONE_SIZE = (4032, 3024)  # 12.2 MP, a typical phone camera
ROUNDS = 5


def naive_pdq(path: Path) -> str:
    """What most integrations do: decode everything, hash every pixel."""
    with Image.open(path) as image:
        rgb = ImageOps.exif_transpose(image).convert("RGB")
    bits, _quality = pdqhash.compute(np.asarray(rgb))
    return bytes(np.packbits(bits.astype(np.uint8))).hex()


def redress_pdq(path: Path) -> str:
    """Redress's default path."""
    return hash_image_file(path).hashes[0].value


def make_phone_photos(reference: Path, folder: Path) -> list[Path]:
    """12 MP JPEGs (quality 90, like a phone's) from reference photos of PDQ quality >= 50."""
    sources = [
        reference / "pdq/bridge-mods/aaa-orig.jpg",
        reference / "pdq/reg-test-input/pen-and-coaster.png",
        *sorted((reference / "pdq/reg-test-input/exif-rotn").glob("*.jpg")),
        reference / "pdq/reg-test-input/labelme-subset/q0291.jpg",
        reference / "pdq/reg-test-input/labelme-subset/q2821.jpg",
    ]
    photos = []
    for index, source in enumerate(sources):
        with Image.open(source) as image:
            rgb = ImageOps.exif_transpose(image).convert("RGB")
        size = PHONE_SIZE if rgb.width >= rgb.height else PHONE_SIZE[::-1]
        target = folder / f"phone{index}.jpg"
        rgb.resize(size, Image.Resampling.BICUBIC).save(target, quality=90)
        photos.append(target)
    return photos


def per_photo_seconds(function: object, photos: list[Path]) -> float:
    started = time.perf_counter()
    for photo in photos:
        function(photo)  # type: ignore[operator]
    return (time.perf_counter() - started) / len(photos)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="one round instead of 5")
    args = parser.parse_args()
    rounds = 1 if args.quick else ROUNDS
    reference = reference_dir()
    with tempfile.TemporaryDirectory() as tmp:
        photos = make_phone_photos(reference, Path(tmp))
        naive_times, redress_times = [], []
        for _ in range(rounds):  # interleaved, so both see the same machine noise
            naive_times.append(per_photo_seconds(naive_pdq, photos))
            redress_times.append(per_photo_seconds(redress_pdq, photos))
        drift_naive = [hamming_distance(naive_pdq(p), redress_pdq(p)) for p in photos]
        drift_full = [
            hamming_distance(hash_image_file(p, fast=False).hashes[0].value, redress_pdq(p))
            for p in photos
        ]
    naive = statistics.median(naive_times)
    fast = statistics.median(redress_times)
    result = {
        "quick": args.quick,
        "rounds": rounds,
        "photos": len(photos),
        "photo_size": f"{PHONE_SIZE[0]}x{PHONE_SIZE[1]} JPEG q90",
        "naive_photos_per_s": round(1 / naive, 1),
        "redress_photos_per_s": round(1 / fast, 1),
        "speedup": round(naive / fast, 2),
        "drift_vs_naive_bits_max": max(drift_naive),
        "drift_vs_naive_bits_median": statistics.median(drift_naive),
        "drift_vs_full_decode_bits_max": max(drift_full),
    }
    print(
        f"Hashing throughput, 12 MP phone photos, one core (median of {rounds} interleaved rounds)"
    )
    print(f"  naive (full decode + pdqhash)   {result['naive_photos_per_s']:>7} photos/s")
    print(f"  redress (draft decode, 512 px)  {result['redress_photos_per_s']:>7} photos/s")
    print(f"  speed-up                        {result['speedup']:>7}x   (target >= 5x)")
    print(
        f"  drift vs naive hash             max {max(drift_naive)} bits, median "
        f"{statistics.median(drift_naive)}   (target <= 10)"
    )
    print(f"  drift vs full decode at 512 px  max {max(drift_full)} bits")
    print(f"  written to {write_result('hash_throughput', result)}")


if __name__ == "__main__":
    main()
