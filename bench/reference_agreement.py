"""How close our hashes are to Meta's reference outputs: PDQ on the bridge photos (the default,
fast decode and `--full-decode`), and vPDQ frame by frame on every reference clip. The tests'
bounds (tests/test_pdq_reference.py, tests/test_video_reference.py) and the README quote these.

    python bench/reference_agreement.py            # everything (decodes every frame of 7 clips)
    python bench/reference_agreement.py --quick    # photos and the two shortest clips
"""

from __future__ import annotations

import argparse
import csv
import statistics

from _common import reference_dir, write_result
from redress.hashing import VpdqSignal, hash_image_file, hash_video_file
from redress.hashing.signal_types import hamming_distance

CLIPS = [
    "chair-19-sd-bar",
    "chair-22-sd-grey-bar",
    "chair-orig-22-sd-bar",
    "doorknob-hd-no-bar",
    "pattern-hd-no-bar",
    "pattern-sd-grey-bar",
    "test-padded-dimensions",
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="photos and two short clips only")
    args = parser.parse_args()
    reference = reference_dir()
    rows = (reference / "pdq" / "expected-bridge-mods.csv").read_text().splitlines()
    photos: dict[str, dict[str, int]] = {}
    for expected, _quality, name in csv.reader(rows):
        path = reference / "pdq" / name
        photos[path.name] = {
            mode: hamming_distance(hash_image_file(path, fast=fast).hashes[0].value, expected)
            for mode, fast in (("default", True), ("full_decode", False))
        }
    print(f"PDQ vs the reference tool, {len(photos)} bridge photos (bits):")
    print(f"  {'photo':28} {'default':>8} {'full':>6}")
    for name, got in photos.items():
        print(f"  {name:28} {got['default']:>8} {got['full_decode']:>6}")
    worst = {mode: max(p[mode] for p in photos.values()) for mode in ("default", "full_decode")}
    print(f"  {'worst':28} {worst['default']:>8} {worst['full_decode']:>6}")

    clips = sorted(CLIPS, key=lambda c: (reference / "vpdq" / "videos" / f"{c}.mp4").stat().st_size)
    videos: dict[str, dict[str, float]] = {}
    for name in clips[:2] if args.quick else clips:
        expected = VpdqSignal().parse((reference / "vpdq" / "hashes" / f"{name}.txt").read_text())
        ours = hash_video_file(reference / "vpdq" / "videos" / f"{name}.mp4", every_frame=True)
        pairs = list(zip(ours.frames, expected, strict=True))
        distances = [hamming_distance(a.pdq, b.pdq) for a, b in pairs]
        videos[name] = {
            "frames": len(pairs),
            "median": statistics.median(distances),
            "worst": max(distances),
            "quality_worst": max(abs(a.quality - b.quality) for a, b in pairs),
        }
    print("vPDQ --every-frame vs vpdq's reference output (bits per frame):")
    print(f"  {'clip':24} {'frames':>6} {'median':>7} {'worst':>6} {'quality':>8}")
    for name, v in videos.items():
        print(
            f"  {name:24} {v['frames']:>6} {v['median']:>7} {v['worst']:>6} {v['quality_worst']:>8}"
        )
    summary = {
        "pdq_worst": worst,
        "vpdq_median_worst": max(v["median"] for v in videos.values()),
        "vpdq_worst": max(v["worst"] for v in videos.values()),
        "vpdq_quality_worst": max(v["quality_worst"] for v in videos.values()),
        "quick": args.quick,
    }
    print(f"summary: {summary}")
    write_result("reference_agreement", {"photos": photos, "videos": videos, **summary})


if __name__ == "__main__":
    main()
