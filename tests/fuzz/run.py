"""Fuzz every parser of untrusted bytes for a bounded time and report per target.

    python tests/fuzz/run.py --quick              # make test: 15 s per target
    python tests/fuzz/run.py --seconds 600        # make fuzz: longer, corpus kept between runs
    python tests/fuzz/run.py --target wire --seconds 60

Each target runs in its own process under atheris (coverage-guided libFuzzer) starting from
seeds its harness generates (tests/fuzz/targets.py); where atheris cannot run, Hypothesis
mutates the same seeds instead. Prints executions, seconds and crashes per target; a crashing
input is saved under tests/fuzz/crashes/TARGET/ and the run exits 1. Reproduce one with
`python tests/fuzz/run.py --replay PATH --target NAME`.
"""

from __future__ import annotations

import argparse
import importlib.util
import re
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
sys.path.insert(0, str(REPO))

from tests.fuzz.targets import TARGETS, Target  # noqa: E402

QUICK_SECONDS = 15
# The quick run fuzzes along one fixed mutation sequence: what `make test` finds on one machine,
# it finds on another (give or take speed), and new inputs are `make fuzz`'s job.
QUICK_RANDOM_SEED = 1
MEMORY_LIMIT_BYTES = 8 * 2**30  # address space per fuzzing process
CRASHES = HERE / "crashes"
KEPT_CORPUS = HERE / "corpus-work"
_EXECUTED = re.compile(r"stat::number_of_executed_units:\s*(\d+)")
_DONE = re.compile(r"Done (\d+) runs in")


def _write_seeds(target: Target, folder: Path) -> int:
    folder.mkdir(parents=True, exist_ok=True)
    seeds = target.seeds()
    for number, seed in enumerate(seeds):
        (folder / f"seed-{number:03d}").write_bytes(seed)
    return len(seeds)


def _limit_memory() -> None:
    # A parser that asks for gigabytes must fail in Python (MemoryError: a reported crash with
    # its input saved), not get the fuzzer killed by the kernel with nothing to show.
    limit = MEMORY_LIMIT_BYTES
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def run_atheris(
    target: Target, seconds: int, corpus: Path, seeds: Path, *, random_seed: int | None = None
) -> tuple[int, int, str]:
    """Fuzz one target in a child process: (executions, crashes, what the fuzzer said).

    `random_seed` fixes libFuzzer's mutation sequence (the quick run in `make test`, so a CI
    result can be reproduced); None lets libFuzzer pick one (the long runs, to find new inputs).
    """
    artifacts = CRASHES / target.name
    artifacts.mkdir(parents=True, exist_ok=True)
    before = set(artifacts.iterdir())
    command = [
        sys.executable,
        str(HERE / "fuzz_one.py"),
        target.name,
        f"-max_total_time={seconds}",
        f"-timeout={target.timeout_seconds}",
        "-rss_limit_mb=4096",
        "-max_len=65536",
        "-print_final_stats=1",
        f"-artifact_prefix={artifacts}/",
        *([f"-seed={random_seed}"] if random_seed is not None else []),
        str(corpus),
        str(seeds),
    ]
    done = subprocess.run(
        command,
        capture_output=True,
        text=True,
        timeout=seconds + 300,  # start-up and the initial corpus pass come on top
        check=False,
        cwd=REPO,
        preexec_fn=_limit_memory,
    )
    output = done.stdout + done.stderr
    found = _EXECUTED.findall(output) or _DONE.findall(output)
    executions = int(found[-1]) if found else 0
    new = sorted(set(artifacts.iterdir()) - before)
    crashes = len(new) or (1 if done.returncode != 0 else 0)
    report = ""
    if crashes:
        lines = [line for line in output.strip().splitlines() if not line.startswith("INFO:")]
        tail = "\n".join(lines[-40:])
        saved = ", ".join(str(p.relative_to(REPO)) for p in new) or "(no input saved)"
        report = f"{tail}\n  exit status {done.returncode}; input saved: {saved}"
    return executions, crashes, report


def run_hypothesis(target: Target, seconds: int) -> tuple[int, int, str]:
    """The fallback where atheris is missing: Hypothesis mutates the seeds (not guided by
    coverage) for about `seconds`."""
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    seeds = target.seeds()
    count = [0]

    @st.composite
    def mutated(draw: st.DrawFn) -> bytes:
        data = bytearray(draw(st.sampled_from(seeds)))
        for _ in range(draw(st.integers(0, 8))):
            if not data:
                break
            at = draw(st.integers(0, len(data) - 1))
            action = draw(st.sampled_from(["flip", "cut", "insert"]))
            if action == "flip":
                data[at] = draw(st.integers(0, 255))
            elif action == "cut":
                del data[at : at + draw(st.integers(1, 64))]
            else:
                data[at:at] = draw(st.binary(min_size=1, max_size=16))
        return bytes(data)

    @settings(
        max_examples=200, deadline=None, database=None, suppress_health_check=list(HealthCheck)
    )
    @given(st.one_of(mutated(), st.binary(max_size=512)))
    def property_(data: bytes) -> None:
        count[0] += 1
        signal.alarm(target.timeout_seconds)  # one input running longer is a hang
        try:
            target.check(data)
        finally:
            signal.alarm(0)

    def hang(signum: int, frame: object) -> None:
        raise TimeoutError(f"one input took more than {target.timeout_seconds} s")

    signal.signal(signal.SIGALRM, hang)

    deadline = time.monotonic() + seconds
    try:
        while time.monotonic() < deadline:  # rounds of 200 fresh examples until time is up
            property_()
    except Exception as exc:
        return count[0], 1, f"{type(exc).__name__}: {exc}"
    return count[0], 0, ""


def main() -> int:
    """Fuzz the chosen targets; 0 when none crashed."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_SECONDS} s per target")
    parser.add_argument("--seconds", type=int, default=None, help="seconds per target")
    parser.add_argument("--target", choices=sorted(TARGETS), action="append")
    parser.add_argument("--engine", choices=["atheris", "hypothesis"], default=None)
    parser.add_argument("--replay", type=Path, help="run one saved input through --target")
    options = parser.parse_args()
    chosen = [TARGETS[name] for name in options.target or sorted(TARGETS)]
    if options.replay is not None:
        for target in chosen:
            target.check(options.replay.read_bytes())
            print(f"{target.name}: {options.replay} passes")
        return 0
    seconds = options.seconds or QUICK_SECONDS
    engine = options.engine or ("atheris" if importlib.util.find_spec("atheris") else "hypothesis")
    print(f"Fuzzing {len(chosen)} parsers with {engine}, {seconds} s each", flush=True)
    work = Path(tempfile.mkdtemp(prefix="redress-fuzz-run-"))
    total_runs = total_crashes = 0
    started = time.monotonic()
    try:
        for target in chosen:
            began = time.monotonic()
            if engine == "atheris":
                seeds = work / "seeds" / target.name
                count = _write_seeds(target, seeds)
                # A long run keeps what it learnt; the quick one starts from the seeds each time.
                corpus = work / "corpus" / target.name
                if not options.quick:
                    corpus = KEPT_CORPUS / target.name
                corpus.mkdir(parents=True, exist_ok=True)
                runs, crashes, report = run_atheris(
                    target,
                    seconds,
                    corpus,
                    seeds,
                    random_seed=QUICK_RANDOM_SEED if options.quick else None,
                )
            else:
                count = len(target.seeds())
                runs, crashes, report = run_hypothesis(target, seconds)
            took = time.monotonic() - began
            total_runs += runs
            total_crashes += crashes
            print(
                f"  {target.name:<14} {runs:>9} executions {took:7.1f} s  {crashes} crash"
                f"{'es' if crashes != 1 else ''}  ({count} seeds)",
                flush=True,
            )
            if report:
                print("    " + report.replace("\n", "\n    "), flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(
        f"Fuzzing: {len(chosen)} targets, {total_runs} executions, "
        f"{time.monotonic() - started:.1f} s, {total_crashes} crashes",
        flush=True,
    )
    return 1 if total_crashes else 0


if __name__ == "__main__":
    sys.exit(main())
