"""The figures of the README's "Limits" section, computed rather than typed.

1. The decoding cost Redress charges a file, from its header alone (`decode_cost`, the estimate
   that `REDRESS_MAX_DECODE_MB` and the memory budgets are checked against), for 10000 x 10000
   PNGs of each kind the attacks use (RGBA, 16-bit greyscale, RGB). The PNGs written here have a
   valid header and an empty picture: the estimate never reads the pixels.
2. The decoder's cost for a video at 1080p and 4K (`video_cost`) with this machine's default
   number of decoding threads.
3. The resident memory of one `redress hash --jobs N` worker process of its own: a fresh
   interpreter that imports the hashing code and hashes one small picture (peak RSS).

Output: bench/out/limit_costs.json. Every part takes well under a second, except the worker's
(a few seconds of imports); `--quick` leaves the worker out, for CI-ish checks.

Usage: python bench/limit_costs.py [--quick]
"""

from __future__ import annotations

import argparse
import json
import os
import struct
import subprocess
import sys
import tempfile
import zlib
from pathlib import Path
from typing import Any

from _common import REPO, write_result

SIDE = 10_000
# PNG colour types and bit depths of the pictures the attacks upload (bench/attacks_agent.py).
KINDS = {"rgba": (8, 6), "grey16": (16, 0), "rgb": (8, 2)}
MB = 1 << 20

WORKER = """
import json, resource, sys
from pathlib import Path
import numpy as np
from PIL import Image
from redress.hashing.files import HashOptions, hash_file
path = Path(sys.argv[1])
Image.fromarray(np.random.default_rng(0).integers(0, 256, (256, 256, 3), dtype=np.uint8)).save(path)
hash_file(path, HashOptions())
print(json.dumps({"peak_rss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))
"""


def header_only_png(path: Path, bit_depth: int, colour_type: int) -> None:
    """A SIDE x SIDE PNG whose header is complete and whose picture data is a few bytes."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = struct.pack(">I", zlib.crc32(kind + data))
        return struct.pack(">I", len(data)) + kind + data + crc

    header = struct.pack(">IIBBBBB", SIDE, SIDE, bit_depth, colour_type, 0, 0, 0)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\0" * 64))
        + chunk(b"IEND", b"")
    )


def image_costs(folder: Path) -> dict[str, int]:
    """MB that `decode_cost` charges each kind of 10000 x 10000 PNG."""
    from redress.hashing.images import decode_cost

    costs = {}
    for name, (depth, colour) in KINDS.items():
        path = folder / f"{name}.png"
        header_only_png(path, depth, colour)
        costs[name] = round(decode_cost(path) / MB)
    return costs


def video_costs() -> dict[str, Any]:
    """MB that `video_cost` charges a 1080p and a 4K video with the default threads."""
    from redress.hashing.video_limits import video_cost

    return {
        "decoding_threads": min(16, (os.cpu_count() or 1) + 1),
        "1080p_mb": round(video_cost(1920, 1080, 0) / MB),
        "4k_mb": round(video_cost(3840, 2160, 0) / MB),
        "8k_mb": round(video_cost(7680, 4320, 0) / MB),
    }


def worker_rss(folder: Path) -> int:
    """Peak resident MB of a fresh interpreter that hashes one small picture."""
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    done = subprocess.run(
        [sys.executable, "-c", WORKER, str(folder / "small.png")],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return round(json.loads(done.stdout)["peak_rss_kb"] / 1024)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="leave out the worker's memory")
    args = parser.parse_args()
    sys.path.insert(0, str(REPO / "src"))
    from redress.hashing.images import DEFAULT_MAX_DECODE_MB

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        result: dict[str, Any] = {
            "quick": args.quick,
            "image_side": SIDE,
            "max_decode_mb": DEFAULT_MAX_DECODE_MB,
            "image_cost_mb": image_costs(folder),
            "video": video_costs(),
        }
        if not args.quick:
            result["worker_peak_rss_mb"] = worker_rss(folder)
    print(json.dumps(result, indent=2))
    print(f"written to {write_result('limit_costs', result)}")


if __name__ == "__main__":
    main()
