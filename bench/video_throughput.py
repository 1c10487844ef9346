"""Video hashing speed: seconds of video hashed per wall-clock second at one frame per second,
on one core (one decoding thread), for each reference clip. Side by side with a naive PyAV loop
(decode every frame, convert each to RGB, hash one per second) in the same run.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import av
import pdqhash

from _common import reference_dir, write_result
from redress.hashing import hash_video_file

ROUNDS = 3


def naive_vpdq(path: Path) -> int:
    """The straightforward loop: every frame decoded and converted, one per second hashed."""
    hashed = 0
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        stream.codec_context.thread_count = 1
        step = max(1, int(float(stream.average_rate)))
        for number, frame in enumerate(container.decode(stream)):
            pixels = frame.to_ndarray(format="rgb24")
            if number % step == 0:
                pdqhash.compute(pixels)
                hashed += 1
    return hashed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="one round instead of 3")
    args = parser.parse_args()
    rounds = 1 if args.quick else ROUNDS
    clips = sorted((reference_dir() / "vpdq" / "videos").glob("*.mp4"))
    rows = []
    total_video = total_naive = total_redress = 0.0
    for clip in clips:
        duration = hash_video_file(clip, threads=1).duration
        naive_times, redress_times = [], []
        for _ in range(rounds):
            started = time.perf_counter()
            naive_vpdq(clip)
            naive_times.append(time.perf_counter() - started)
            started = time.perf_counter()
            hash_video_file(clip, threads=1)
            redress_times.append(time.perf_counter() - started)
        naive, ours = statistics.median(naive_times), statistics.median(redress_times)
        total_video += duration
        total_naive += naive
        total_redress += ours
        rows.append(
            {
                "clip": clip.name,
                "seconds": round(duration, 2),
                "naive_x_realtime": round(duration / naive, 1),
                "redress_x_realtime": round(duration / ours, 1),
            }
        )
    overall = {
        "naive_x_realtime": round(total_video / total_naive, 1),
        "redress_x_realtime": round(total_video / total_redress, 1),
        "speedup": round(total_naive / total_redress, 2),
    }
    print(f"Video hashing, 1 frame per second, one core (median of {rounds} interleaved rounds)")
    print(f"  {'clip':32} {'length':>7} {'naive':>9} {'redress':>9}")
    for row in rows:
        print(
            f"  {row['clip']:32} {row['seconds']:>6}s {row['naive_x_realtime']:>8}x "
            f"{row['redress_x_realtime']:>8}x"
        )
    print(
        f"  {'all clips':32} {round(total_video, 1):>6}s {overall['naive_x_realtime']:>8}x "
        f"{overall['redress_x_realtime']:>8}x   (target >= 20x real time; "
        f"{overall['speedup']}x the naive loop)"
    )
    result = {"quick": args.quick, "rounds": rounds, "clips": rows, "overall": overall}
    print(f"  written to {write_result('video_throughput', result)}")


if __name__ == "__main__":
    main()
