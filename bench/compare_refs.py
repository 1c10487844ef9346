"""The same benchmarks on two commits, in one run on one machine: is a change (a reshape, a
refactor) within noise?

    python bench/compare_refs.py BEFORE [AFTER] [--rounds 2] [--quick]

Each commit is checked out into a temporary worktree and runs its *own* benchmark scripts
(their imports follow that commit's layout) with its own `src` first on the path; the rounds
alternate before/after so that a machine getting busier or cooler does not favour one side.
Prints the median of each figure per commit and the ratio after/before (above 1 = faster for
rates, below 1 = faster for times) and saves bench/out/compare_refs.json.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench._common import REPO, reference_dir, write_result


@dataclass(frozen=True)
class Figure:
    """One number a benchmark writes: which script, where in its JSON, and which way is better."""

    label: str
    script: str
    path: tuple[str | int, ...]
    higher_is_better: bool = True


@dataclass(frozen=True)
class Bench:
    """A benchmark script, its arguments (full and quick), and the figures read from its JSON."""

    script: str
    args: tuple[str, ...]
    quick_args: tuple[str, ...]
    figures: tuple[Figure, ...]


BENCHES = (
    Bench(
        "hash_throughput",
        ("--quick",),
        ("--quick",),
        (Figure("photos hashed per s", "hash_throughput", ("redress_photos_per_s",)),),
    ),
    Bench(
        "pdq_index",
        ("1000000",),
        ("100000",),
        (
            Figure("PDQ index queries per s", "pdq_index", ("results", 0, "redress_qps_batch1")),
            Figure("PDQ index build s", "pdq_index", ("results", 0, "redress_build_s"), False),
        ),
    ),
    Bench(
        "agent",
        ("--signals", "1000000", "--seconds", "10"),
        ("--signals", "100000", "--seconds", "4", "--trials", "10"),
        (
            Figure("agent checks per s", "agent", ("check_requests_per_s",)),
            Figure("agent check p99 ms", "agent", ("check_p99_ms",), False),
            Figure("agent feed ingest signals per s", "agent", ("ingest_cold_signals_per_s",)),
        ),
    ),
)


def _dig(data: Any, path: tuple[str | int, ...]) -> float:
    for key in path:
        data = data[key]
    return float(data)


def _checkout(ref: str, into: Path) -> str:
    commit = subprocess.run(
        ["git", "rev-parse", "--verify", f"{ref}^{{commit}}"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    subprocess.run(
        ["git", "worktree", "add", "--detach", "--quiet", str(into), commit], cwd=REPO, check=True
    )
    return commit


def _run(tree: Path, bench: Bench, quick: bool) -> dict[str, Any]:
    env = {
        **os.environ,
        "PYTHONPATH": str(tree / "src"),
        "REDRESS_REFERENCE_DIR": str(reference_dir()),
    }
    args = bench.quick_args if quick else bench.args
    subprocess.run(
        [sys.executable, str(tree / "bench" / f"{bench.script}.py"), *args],
        cwd=tree,
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    result: dict[str, Any] = json.loads(
        (tree / "bench" / "out" / f"{bench.script}.json").read_text()
    )
    return result


def main() -> int:
    """Run every benchmark on both commits, alternating, and print the comparison."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("before", help="the commit to compare against (e.g. the one before)")
    parser.add_argument("after", nargs="?", default="HEAD")
    parser.add_argument("--rounds", type=int, default=2, help="runs per commit (default 2)")
    parser.add_argument("--quick", action="store_true", help="smaller sizes (a few minutes)")
    parser.add_argument(
        "--only", action="append", choices=[bench.script for bench in BENCHES], help="these only"
    )
    options = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="redress-compare-"))
    trees = {"before": work / "before", "after": work / "after"}
    commits = {side: _checkout(getattr(options, side), tree) for side, tree in trees.items()}
    samples: dict[str, dict[str, list[float]]] = {"before": {}, "after": {}}
    chosen = [bench for bench in BENCHES if not options.only or bench.script in options.only]
    try:
        for bench in chosen:
            for round_number in range(options.rounds):
                order = ("before", "after") if round_number % 2 == 0 else ("after", "before")
                for side in order:
                    print(f"{bench.script}: {side} round {round_number + 1}", flush=True)
                    result = _run(trees[side], bench, options.quick)
                    for figure in bench.figures:
                        value = _dig(result, figure.path)
                        samples[side].setdefault(figure.label, []).append(value)
    finally:
        for tree in trees.values():
            subprocess.run(
                ["git", "worktree", "remove", "--force", str(tree)], cwd=REPO, check=False
            )
    rows = []
    print(f"\n{'figure':<36}{'before':>12}{'after':>12}{'after/before':>14}")
    for bench in chosen:
        for figure in bench.figures:
            before = statistics.median(samples["before"][figure.label])
            after = statistics.median(samples["after"][figure.label])
            ratio = after / before if before else float("nan")
            rows.append(
                {
                    "figure": figure.label,
                    "higher_is_better": figure.higher_is_better,
                    "before": before,
                    "after": after,
                    "ratio": round(ratio, 3),
                    "samples": {side: samples[side][figure.label] for side in samples},
                }
            )
            print(f"{figure.label:<36}{before:>12.2f}{after:>12.2f}{ratio:>14.3f}")
    path = write_result(
        "compare_refs",
        {
            "before": commits["before"],
            "after": commits["after"],
            "rounds": options.rounds,
            "quick": options.quick,
            "figures": rows,
        },
    )
    print(f"saved {path.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
