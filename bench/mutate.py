"""Mutation testing of the modules that carry the project's promises (mutmut 3).

Each module is mutated against the few tests that cover it, in its own working folder
(build/mutmut/NAME/, with a generated mutmut configuration and links to src/ and tests/), so a
mutant runs only the fast selection that can catch it.

    python bench/mutate.py run wire signal_types     # mutate, record figures
    python bench/mutate.py run --all --jobs 2
    python bench/mutate.py rerun wire                # only the survivors, against new tests
    python bench/mutate.py report                    # docs/mutation-report.md from the figures
    python bench/mutate.py check                     # the report matches the figures (CI)

A run's figures go to bench/mutation/NAME.json (committed, so the report can be rebuilt and
checked without re-running). A surviving mutant is either fixed by a new test or listed in
bench/mutation/equivalent.toml with the reason it cannot change behaviour; the report shows both.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tomllib
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
WORK = REPO / "build" / "mutmut"
FIGURES = REPO / "bench" / "mutation"
EQUIVALENT = FIGURES / "equivalent.toml"
NOTES = FIGURES / "notes.toml"  # why an open survivor is still open
REPORT = REPO / "docs" / "mutation-report.md"


@dataclass(frozen=True)
class Target:
    """A module (one or more files) and the tests that cover it."""

    files: tuple[str, ...]
    tests: tuple[str, ...]
    select: str = "not postgresql"  # SQLite is enough to judge a mutant; keep runs short


TARGETS: dict[str, Target] = {
    "wire": Target(
        ("src/redress/feed/wire.py", "src/redress/hub/bank/wire.py"),
        ("tests/test_wire.py", "tests/hub/test_feed_wire.py"),
    ),
    "signal_types": Target(
        ("src/redress/hashing/signal_types.py",),
        ("tests/test_signal_types.py", "tests/matching/test_protocol.py"),
    ),
    "pdq_index": Target(
        ("src/redress/matching/pdq_index.py",),
        (
            "tests/matching/test_pdq_index_exact.py",
            "tests/matching/test_pdq_index_mutants.py",
            "tests/test_matching.py",
            "tests/matching/test_indexes.py",
            "tests/matching/test_protocol.py",
        ),
    ),
    "bank": Target(
        (
            "src/redress/hub/bank/service.py",
            "src/redress/hub/bank/feed.py",
            "src/redress/hub/bank/queries.py",
            "src/redress/hub/bank/bulk.py",
        ),
        ("tests/hub/test_bank_service.py", "tests/hub/test_feed.py", "tests/hub/test_stopncii.py"),
    ),
    "credentials": Target(
        ("src/redress/hub/cases/credentials.py",),
        ("tests/hub/test_credentials.py", "tests/hub/test_cases.py"),
    ),
    # The hardening modules: PIN lock-out and back-off, request budgets, survivor sessions,
    # flood holds, the hashing memory budget and the agent's flood quarantine.
    "lockout": Target(
        ("src/redress/hub/cases/lockout.py",),
        (
            "tests/hub/test_lockout_budgets.py",
            "tests/hub/test_lockout.py",
            "tests/hub/test_lockout_keys.py",
        ),
    ),
    "ratelimit": Target(
        ("src/redress/web/ratelimit.py",),
        ("tests/hub/test_ratelimit.py", "tests/hub/test_client_address.py"),
    ),
    "portal_sessions": Target(
        ("src/redress/hub/cases/portal_sessions.py",),
        ("tests/hub/test_portal_sessions.py", "tests/portal/test_sessions.py"),
    ),
    "flood": Target(
        ("src/redress/hub/cases/intake.py", "src/redress/hub/bank/holds.py"),
        ("tests/hub/test_flood.py",),
    ),
    "budget": Target(
        ("src/redress/hashing/budget.py",), ("tests/test_budget.py", "tests/test_budget_mutants.py")
    ),
    "quarantine": Target(
        ("src/redress/agent/quarantine/service.py", "src/redress/agent/quarantine/keys.py"),
        ("tests/agent/test_agent_quarantine.py",),
    ),
}


def _config(work: Path, target: Target) -> str:
    """The repository's pyproject.toml plus a [tool.mutmut] section for `target` (the tests of
    its selection that exist in `work`)."""
    tests = [test for test in target.tests if (work / test).exists()]
    mutmut = {
        "source_paths": ["src"],
        "only_mutate": list(target.files),
        "pytest_add_cli_args_test_selection": tests,
        "pytest_add_cli_args": ["-p", "no:cacheprovider", "-k", target.select],
        "timeout_multiplier": 5.0,
        "use_git_change_detection": False,
    }
    lines = ["", "[tool.mutmut]"]
    lines += [f"{key} = {json.dumps(value)}" for key, value in mutmut.items()]
    return (REPO / "pyproject.toml").read_text() + "\n".join(lines) + "\n"


def _mutmut(
    name: str, work: Path, env: dict[str, str], jobs: int, mutants: list[str], *, mode: str
) -> None:
    """`mutmut run` in `work` (only `mutants` when given), its output in work/mutmut.log."""
    with (work / "mutmut.log").open(mode) as log:
        done = subprocess.run(
            [sys.executable, "-m", "mutmut", "run", "--max-children", str(jobs), *mutants],
            cwd=work,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            check=False,
        )
    if done.returncode:
        sys.exit(f"mutmut failed for {name}; see {work / 'mutmut.log'}")


def run(name: str, jobs: int, tests_from: str | None = None) -> dict[str, Any]:
    """Mutate `name` from scratch (against the tests of git revision `tests_from` if given, for
    "before" figures); returns and saves its figures."""
    target = TARGETS[name]
    work = WORK / name
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    (work / "src").symlink_to(REPO / "src")
    if tests_from:
        archive = subprocess.run(
            ["git", "archive", tests_from, "tests"], cwd=REPO, capture_output=True, check=True
        )
        subprocess.run(["tar", "-x", "-C", str(work)], input=archive.stdout, check=True)
    else:
        (work / "tests").symlink_to(REPO / "tests")
    (work / "pyproject.toml").write_text(_config(work, target))
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    # The mutated copy must be the only redress on the path.
    env.pop("PYTHONPATH", None)
    env.setdefault("REDRESS_REFERENCE_DIR", str(REPO.parent / "shared" / "reference"))
    started = datetime.now(UTC)
    _mutmut(name, work, env, jobs, [], mode="w")
    seconds = (datetime.now(UTC) - started).total_seconds()
    figures = collect(name, work)
    figures["seconds"] = round(seconds)
    figures["date"] = started.isoformat(timespec="minutes")
    FIGURES.mkdir(parents=True, exist_ok=True)
    previous = load_figures(name)
    if previous and "before" in previous:
        figures["before"] = previous["before"]
    (FIGURES / f"{name}.json").write_text(json.dumps(figures, indent=2) + "\n")
    return figures


def rerun(name: str, jobs: int, only: list[str] | None = None) -> dict[str, Any]:
    """Run again, against the current tests, only the mutants the last run of `name` left alive
    (and any it did not get to), or the mutants `only` names whatever their result (e.g. ones
    a loaded machine timed out); the rest keep their recorded result. For "after" figures when
    the tests were only added to (a killed mutant stays killed), at a fraction of a full run.
    Without an earlier run's folder (a fresh clone), the folder is set up again: mutmut then
    generates the mutants and runs only the named ones."""
    work = WORK / name
    previous = load_figures(name)
    if previous is None:
        sys.exit(f"no recorded run of {name}: use `run` first")
    if only is not None:
        unknown = sorted(set(only) - set(previous["status"]))
        if unknown:
            sys.exit(f"not mutants of the recorded run of {name}: {', '.join(unknown)}")
        alive = list(only)
    else:
        alive = [m for m, s in previous["status"].items() if s not in ("killed", "timeout")]
    if not (work / "mutants").exists():
        if only is None:
            sys.exit(f"no earlier run of {name} in {work}: use `run` first, or name --mutants")
        work.mkdir(parents=True, exist_ok=True)
        if not (work / "src").exists():
            (work / "src").symlink_to(REPO / "src")
    tests = work / "tests"
    if tests.is_symlink():
        tests.unlink()
    else:
        shutil.rmtree(tests, ignore_errors=True)  # a --baseline run's old tests
    tests.symlink_to(REPO / "tests")
    shutil.rmtree(work / "mutants" / "tests", ignore_errors=True)
    # Which tests reach which function is recorded once per folder; a test that changed since
    # (not only one that was added) must be traced again.
    (work / "mutants" / "mutmut-stats.json").unlink(missing_ok=True)
    (work / "pyproject.toml").write_text(_config(work, TARGETS[name]))
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    env.pop("PYTHONPATH", None)
    env.setdefault("REDRESS_REFERENCE_DIR", str(REPO.parent / "shared" / "reference"))
    started = datetime.now(UTC)
    if alive:
        _mutmut(name, work, env, jobs, alive, mode="a")
    figures = collect(name, work)
    # Every mutant not re-run keeps its recorded result (a fresh folder has none of its own).
    rerun_ = set(alive)
    figures["status"] = {
        m: figures["status"][m] if m in rerun_ else status
        for m, status in previous["status"].items()
    }
    figures["diffs"] = {
        m: diff
        for m, diff in {**previous["diffs"], **figures["diffs"]}.items()
        if figures["status"][m] in ("survived", "no tests")
        and (m in rerun_ or m in previous["diffs"])
    }
    figures["seconds"] = previous.get("seconds", 0) + round(
        (datetime.now(UTC) - started).total_seconds()
    )
    figures["date"] = started.isoformat(timespec="minutes")
    figures["rerun"] = len(alive)
    for key in ("before", "note", "stale"):
        if key in previous:
            figures[key] = previous[key]
    (FIGURES / f"{name}.json").write_text(json.dumps(figures, indent=2) + "\n")
    return figures


def collect(name: str, work: Path) -> dict[str, Any]:
    """Every mutant's status (and the diff of each survivor) from mutmut's result files."""
    status_of = {1: "killed", 3: "killed", 0: "survived", 33: "no tests", 5: "no tests"}
    status_of[None] = "not checked"  # (a run stopped part-way)
    status_of.update({-6: "killed", -9: "killed", -11: "killed"})  # crashed the tests
    statuses: dict[str, str] = {}
    for file in TARGETS[name].files:
        meta = json.loads((work / "mutants" / f"{file}.meta").read_text())
        for mutant, code in meta["exit_code_by_key"].items():
            timeout = code in (24, 36, -24, 152, 255)
            statuses[mutant] = status_of.get(code, "timeout" if timeout else str(code))
    diffs = {}
    for mutant, status in statuses.items():
        if status in ("survived", "no tests"):
            shown = subprocess.run(
                [sys.executable, "-m", "mutmut", "show", mutant],
                cwd=work,
                capture_output=True,
                text=True,
                check=False,
            )
            diffs[mutant] = "\n".join(shown.stdout.splitlines()[1:]).strip()
    return {"module": name, "files": list(TARGETS[name].files), "status": statuses, "diffs": diffs}


def load_figures(name: str) -> dict[str, Any] | None:
    path = FIGURES / f"{name}.json"
    return json.loads(path.read_text()) if path.exists() else None


def summary(figures: dict[str, Any], equivalent: dict[str, str]) -> dict[str, int]:
    """Counts: mutants (tested), killed (incl. timeouts), survived, of which equivalent, and
    mutants a stopped run did not get to."""
    statuses = {m: s for m, s in figures["status"].items() if s != "not checked"}
    killed = sum(s in ("killed", "timeout") for s in statuses.values())
    alive = [m for m, s in statuses.items() if s not in ("killed", "timeout")]
    eq = sum(m in equivalent for m in alive)
    return {
        "mutants": len(statuses),
        "killed": killed,
        "survived": len(alive),
        "equivalent": eq,
        "not_checked": len(figures["status"]) - len(statuses),
    }


def _percent(counts: dict[str, int]) -> str:
    real = counts["mutants"] - counts["equivalent"]
    left = counts["survived"] - counts["equivalent"]
    return f"{100 * left / real:.1f} %" if real else "-"


def render() -> str:
    """The report's Markdown."""
    equivalent: dict[str, str] = {}
    if EQUIVALENT.exists():
        equivalent = tomllib.loads(EQUIVALENT.read_text())
    notes: dict[str, str] = tomllib.loads(NOTES.read_text()) if NOTES.exists() else {}
    out = [
        "# Mutation testing",
        "",
        "Generated by `python bench/mutate.py report` from bench/mutation/*.json (written by",
        "`make mutate`); do not edit by hand. Each module is mutated by mutmut 3 against the",
        "tests that cover it (see `TARGETS` in bench/mutate.py; hub tests on SQLite only).",
        "*Killed* includes mutants that made the tests time out. A *surviving* mutant is one no",
        "test noticed; each is either *equivalent* (cannot change behaviour; the reason is given",
        "below, from bench/mutation/equivalent.toml) or a gap still open. *Not caught* is the",
        "share of non-equivalent mutants that survived (the goal: under 10 %).",
        "",
        "Not covered: src/redress/matching/_mih.py. Every function in it is compiled by numba",
        "(`@njit`), and mutmut 3 does not mutate decorated functions (its trampolines would not",
        "compile either); mutating it needs whole-file mutants and a recompile per mutant.",
        "",
        "| module | mutants | killed | survived | equivalent | not caught | before: mutants / "
        "survived / not caught | date |",
        "|---|---|---|---|---|---|---|---|",
    ]
    details = []
    for name in TARGETS:
        figures = load_figures(name)
        if figures is None:
            out.append(f"| {name} | not run | | | | | | |")
            continue
        counts = summary(figures, equivalent)
        before = figures.get("before")
        was = "-"
        if before:
            eq = sum(m in equivalent for m in before["survivors"])
            before_counts = {**before, "equivalent": eq}
            was = f"{before['mutants']} / {before['survived']} / {_percent(before_counts)}"
            if before.get("not_checked"):
                was += f" (+{before['not_checked']} not run)"
        tested = str(counts["mutants"])
        if counts["not_checked"]:
            tested += f" (+{counts['not_checked']} not run)"
        if figures.get("baseline_only"):
            out.append(f"| {name} | not re-run since tests were added | | | | | {was} | |")
            details += ["", f"## {name}: {', '.join(figures['files'])}", "", figures["note"]]
            continue
        # A run that predates a rewrite of its module says so in the table, not only below.
        shown = f"{name} ({figures['stale']})" if figures.get("stale") else name
        out.append(
            f"| {shown} | {tested} | {counts['killed']} | {counts['survived']} | "
            f"{counts['equivalent']} | {_percent(counts)} | {was} | {figures['date'][:10]} |"
        )
        details += ["", f"## {name}: {', '.join(figures['files'])}", ""]
        if figures.get("note"):
            details += [figures["note"], ""]
        survivors = sorted(figures["diffs"])
        if not survivors:
            details.append("Every mutant was killed.")
        for mutant in survivors:
            why = equivalent.get(mutant)
            label = f"equivalent: {why}" if why else "**not caught** (open)"
            if not why and mutant in notes:
                label += f": {notes[mutant]}"
            details += [f"- `{mutant}` — {label}", "", "  ```diff"]
            details += [f"  {line}" for line in figures["diffs"][mutant].splitlines()]
            details += ["  ```", ""]
    return "\n".join(out + details).rstrip() + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    go = sub.add_parser("run", help="mutate modules and record their figures")
    go.add_argument("modules", nargs="*", help=f"some of: {', '.join(TARGETS)}")
    go.add_argument("--all", action="store_true")
    go.add_argument("--jobs", type=int, default=1, help="parallel mutants (at most 2 here)")
    go.add_argument(
        "--baseline",
        metavar="REV",
        help="record as the 'before' figures, against the tests of git revision REV",
    )
    again = sub.add_parser(
        "rerun", help="re-run the last run's survivors against the current tests"
    )
    again.add_argument("modules", nargs="+", help=f"some of: {', '.join(TARGETS)}")
    again.add_argument("--jobs", type=int, default=1, help="parallel mutants (at most 2 here)")
    again.add_argument(
        "--mutants",
        nargs="+",
        metavar="MUTANT",
        help="re-run these mutants (of one module) whatever their recorded result",
    )
    sub.add_parser("report", help="write docs/mutation-report.md")
    sub.add_parser("check", help="fail if docs/mutation-report.md is out of date")
    args = parser.parse_args()
    if args.command == "run":
        names = list(TARGETS) if args.all else args.modules
        if not names or set(names) - set(TARGETS):
            parser.error(f"name modules ({', '.join(TARGETS)}) or pass --all")
        for name in names:
            figures = run(name, args.jobs, args.baseline)
            counts = summary(figures, {})
            if args.baseline:
                figures["before"] = {**counts, "survivors": sorted(figures["diffs"])}
                (FIGURES / f"{name}.json").write_text(json.dumps(figures, indent=2) + "\n")
            print(f"{name}: {counts}")
        REPORT.write_text(render())
    elif args.command == "rerun":
        if set(args.modules) - set(TARGETS):
            parser.error(f"name modules ({', '.join(TARGETS)})")
        if args.mutants and len(args.modules) != 1:
            parser.error("--mutants takes the mutants of one module")
        for name in args.modules:
            print(f"{name}: {summary(rerun(name, args.jobs, args.mutants), {})}")
        REPORT.write_text(render())
    elif args.command == "report":
        REPORT.write_text(render())
    elif REPORT.read_text() != render():
        sys.exit("docs/mutation-report.md is out of date: run `python bench/mutate.py report`")


if __name__ == "__main__":
    main()
