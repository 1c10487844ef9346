"""Case-creation floods against a hub on SQLite: how long the database write lock is held while
big cases are created, and whether small, unrelated case creations running at the same time
fail (500) or are told to retry (503).

The hub runs as a subprocess (`python -m redress serve`) from this tree, or from another source
tree with `--src PATH` (e.g. `git worktree add /tmp/old-main 0281fe3`, then
`--src /tmp/old-main/src`), and both are measured and printed side by side. The write-lock hold
is measured in the hub process the same way for every tree (a `sitecustomize` on its
PYTHONPATH logs each transaction from `BEGIN IMMEDIATE` returning to its end): the longest is
how long every other writer had to wait.

Scenarios: the reported flood (items x 64 MD5 hashes, several requests at once, no
authentication needed) and a realistic big case (portal pictures: the original PDQ and its 13
variants each). The hub runs with the per-item limit raised to 64 and the flood safeguards off,
so that every tree does the same database work; the attack against the default settings is
sent once more to a hub with the defaults, to show what it gets now.

Usage: python bench/attacks_hub_cases.py [--quick] [--src PATH]
"""

from __future__ import annotations

import argparse
import base64
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from _common import REPO, write_result
from redress.hashing.variants import BANK_VARIANTS

STATEMENT = "2026-11-1"
RAISED = {
    "REDRESS_MAX_SIGNALS_PER_ITEM": "64",
    "REDRESS_FLOOD_SIGNALS_PER_REQUEST": "0",
    "REDRESS_FLOOD_CASES_PER_SOURCE": "0",
    "REDRESS_FLOOD_CASES_PER_HOUR": "0",
    "REDRESS_FLOOD_SIGNALS_PER_HOUR": "0",
}


@dataclass
class Hub:
    """A hub subprocess: its URL and SQLite file."""

    url: str
    database: Path
    process: subprocess.Popen[bytes]
    lock_log: Path


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def run_hub(src: Path, extra: dict[str, str]) -> Iterator[Hub]:
    """Migrate a fresh SQLite database and serve a hub from `src` on it until the block ends."""
    folder = Path(tempfile.mkdtemp(prefix="redress-attack-"))
    database = folder / "hub.db"
    (folder / "sitecustomize.py").write_text(LOCK_LOGGER)
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHONPATH": f"{src}{os.pathsep}{folder}",
        "REDRESS_BENCH_LOCK_LOG": str(folder / "locks.log"),
        "REDRESS_DATABASE_URL": f"sqlite:///{database}",
        "REDRESS_SECRET_KEY": base64.b64encode(os.urandom(32)).decode(),
        "REDRESS_CASE_CREATION_RATE": "100000/minute",
        "REDRESS_STATUS_RATE": "100000/minute",
        "REDRESS_LOG_LEVEL": "WARNING",
        **extra,
    }
    subprocess.run([sys.executable, "-m", "redress", "db", "upgrade"], env=env, check=True)
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "redress", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        else:
            raise SystemExit(f"the hub from {src} did not start")
        yield Hub(url, database, process, folder / "locks.log")
    finally:
        process.terminate()
        process.wait(10)


#: Loaded into the hub process (as sitecustomize, from PYTHONPATH) in every source tree alike:
#: logs how long each transaction held the database, from its `BEGIN IMMEDIATE` returning (the
#: write lock taken) to its commit or rollback.
LOCK_LOGGER = """
import os, time
from sqlalchemy import event
from sqlalchemy.engine import Engine

_LOG = os.environ["REDRESS_BENCH_LOCK_LOG"]


@event.listens_for(Engine, "after_cursor_execute")
def _taken(conn, cursor, statement, parameters, context, executemany):
    if statement == "BEGIN IMMEDIATE":
        conn.info["bench_locked_at"] = time.perf_counter()


def _released(conn):
    started = conn.info.pop("bench_locked_at", None)
    if started is not None:
        with open(_LOG, "a") as log:
            log.write(f"{time.perf_counter() - started:.6f}\\n")


event.listen(Engine, "commit", _released)
event.listen(Engine, "rollback", _released)
"""


class LockLog:
    """The write-lock holds the hub logged while the block ran; `longest` after it ends."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.longest = 0.0

    def __enter__(self) -> LockLog:
        self.path.write_text("")
        return self

    def __exit__(self, *_exc: object) -> None:
        holds = [float(line) for line in self.path.read_text().split()]
        self.longest = max(holds, default=0.0)


def md5_items(items: int, per_item: int) -> list[dict[str, Any]]:
    """The reported flood: items of random MD5 values."""
    return [
        {"signals": [{"type": "md5", "value": secrets.token_hex(16)} for _ in range(per_item)]}
        for _ in range(items)
    ]


def portal_items(items: int) -> list[dict[str, Any]]:
    """Pictures as the portal sends them: the original PDQ and its 13 bank variants."""
    return [
        {
            "signals": [{"type": "pdq", "value": secrets.token_hex(32), "quality": 100}]
            + [
                {"type": "pdq", "value": secrets.token_hex(32), "quality": 90, "variant": v.name}
                for v in BANK_VARIANTS
            ]
        }
        for _ in range(items)
    ]


def create(client: httpx.Client, items: list[dict[str, Any]]) -> tuple[int | str, float]:
    """POST /v1/cases; the status (or "reset": no answer) and the seconds it took."""
    started = time.perf_counter()
    try:
        response = client.post("/v1/cases", json={"statement_version": STATEMENT, "items": items})
        status: int | str = response.status_code
    except httpx.TransportError:
        status = "reset"
    return status, time.perf_counter() - started


@dataclass
class Phase:
    """One scenario's figures."""

    big_statuses: list[int | str] = field(default_factory=list)
    big_seconds: list[float] = field(default_factory=list)
    longest_lock_hold: float = 0.0
    small: Counter[int | str] = field(default_factory=Counter)
    small_slowest: float = 0.0


def flood(hub: Hub, bodies: list[list[dict[str, Any]]], small_workers: int) -> Phase:
    """Send the big bodies at once, with small creations running beside them until they end."""
    phase = Phase()
    done = threading.Event()
    lock = threading.Lock()

    def big(items: list[dict[str, Any]]) -> None:
        with httpx.Client(base_url=hub.url, timeout=300) as client:
            status, seconds = create(client, items)
        with lock:
            phase.big_statuses.append(status)
            phase.big_seconds.append(seconds)

    def small() -> None:
        with httpx.Client(base_url=hub.url, timeout=300) as client:
            while not done.is_set():
                status, seconds = create(client, portal_items(1))
                with lock:
                    phase.small[status] += 1
                    phase.small_slowest = max(phase.small_slowest, seconds)

    with LockLog(hub.lock_log) as probe:
        bigs = [threading.Thread(target=big, args=(body,)) for body in bodies]
        smalls = [threading.Thread(target=small) for _ in range(small_workers)]
        for thread in smalls + bigs:
            thread.start()
        for thread in bigs:
            thread.join()
        done.set()
        for thread in smalls:
            thread.join()
    phase.longest_lock_hold = probe.longest
    return phase


def measure(src: Path, quick: bool) -> dict[str, Any]:
    """Every scenario against a hub served from `src`."""
    attack_items, attackers, realistic = (60, 2, 40) if quick else (200, 3, 100)
    with run_hub(src, {}) as hub, httpx.Client(base_url=hub.url, timeout=300) as client:
        default_status, _ = create(client, md5_items(attack_items, 64))
    with run_hub(src, RAISED) as hub:
        # Warm up (first requests import and connect), then the scenarios.
        with httpx.Client(base_url=hub.url, timeout=300) as client:
            create(client, portal_items(1))
        attack = flood(hub, [md5_items(attack_items, 64) for _ in range(attackers)], 2)
        big_case = flood(hub, [portal_items(realistic)], 2)
    return {
        "src": str(src),
        "attack": f"{attackers} requests at once of {attack_items} items x 64 MD5",
        "attack_with_default_settings_status": default_status,
        "attack_statuses": attack.big_statuses,
        "attack_seconds": [round(s, 3) for s in attack.big_seconds],
        "attack_longest_lock_hold_s": round(attack.longest_lock_hold, 3),
        "attack_small_statuses": dict(attack.small),
        "attack_small_slowest_s": round(attack.small_slowest, 3),
        "realistic": f"one case of {realistic} pictures x 14 PDQ (portal original + variants)",
        "realistic_status": big_case.big_statuses[0],
        "realistic_seconds": round(big_case.big_seconds[0], 3),
        "realistic_longest_lock_hold_s": round(big_case.longest_lock_hold, 3),
        "realistic_small_statuses": dict(big_case.small),
    }


def _row(label: str, results: list[dict[str, Any]], key: str) -> str:
    return f"  {label:<46}" + "".join(f"{r[key]!s:>26}" for r in results)


def main() -> None:
    """Measure this tree (and `--src`), print side by side, write bench/out."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="Smaller floods (well under 1 min).")
    parser.add_argument("--src", type=Path, help="Another source tree's src/ to compare with.")
    args = parser.parse_args()
    trees = ([args.src.resolve()] if args.src else []) + [REPO / "src"]
    results = [measure(src, args.quick) for src in trees]
    print("Case-creation floods, hub on SQLite, real HTTP on loopback")
    print(f"  {'':<46}" + "".join(f"{Path(r['src']).parent.name:>26}" for r in results))
    print(_row("attack, default settings: status", results, "attack_with_default_settings_status"))
    print(f"  ({results[-1]['attack']}, limits raised, safeguards off:)")
    print(_row("  statuses", results, "attack_statuses"))
    print(_row("  seconds each", results, "attack_seconds"))
    print(_row("  longest write-lock hold (s)", results, "attack_longest_lock_hold_s"))
    print(_row("  small creations beside it: statuses", results, "attack_small_statuses"))
    print(_row("  slowest small creation (s)", results, "attack_small_slowest_s"))
    print(f"  ({results[-1]['realistic']}:)")
    print(_row("  status", results, "realistic_status"))
    print(_row("  seconds", results, "realistic_seconds"))
    print(_row("  longest write-lock hold (s)", results, "realistic_longest_lock_hold_s"))
    print(_row("  small creations beside it: statuses", results, "realistic_small_statuses"))
    print(
        f"  written to {write_result('attacks_hub_cases', {'quick': args.quick, 'runs': results})}"
    )


if __name__ == "__main__":
    main()
