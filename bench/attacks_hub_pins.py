"""Attacks on the hub's PIN lock-out and rate limits, as an attacker on loopback would make them,
against `redress serve` started as a subprocess (SQLite database, 1 and 2 worker processes):

- a parallel burst of wrong PINs against one case: how many were actually checked (answered
  ``wrong_case_or_pin``, not ``locked``), and whether the right PIN then got in at once;
- case creations with a client-written X-Forwarded-For entry in front of the one the (simulated)
  proxy appends, behind one trusted proxy: how many were accepted against the creation limit;
- wrong PINs on many case numbers with the same spoofing: how many were checked;
- status checks spread over 2 worker processes: how many passed the status rate limit.

``--src PATH`` also runs the hub from another source tree (e.g. the previous main:
``mkdir /tmp/old-main && git archive 0281fe3 src | tar -x -C /tmp/old-main``) and prints both
side by side.

Usage: python bench/attacks_hub_pins.py [--src /tmp/old-main/src] [--quick]
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
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from _common import REPO, write_result

PDQ = "d8f8f0cce0f4a84f0e370a22028f67f0b36e2ed596623e1d33e6b39c4e9c9b22"
PROXY = "203.0.113.9"  # the address the simulated proxy appends: the attacker's real one


@dataclass
class Hub:
    """A running hub subprocess."""

    url: str
    client: httpx.Client

    def create(self, headers: dict[str, str] | None = None) -> httpx.Response:
        version = self.client.get("/v1/statement").json()["version"]
        body = {
            "statement_version": version,
            "items": [{"signals": [{"type": "pdq", "value": secrets.token_hex(32)}]}],
        }
        return self.client.post("/v1/cases", json=body, headers=headers or {})

    def status(self, number: str, pin: str, headers: dict[str, str] | None = None) -> str:
        answer = self.client.post(
            f"/v1/cases/{number}/status", json={"pin": pin}, headers=headers or {}
        )
        return "ok" if answer.status_code == 200 else str(answer.json()["code"])


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def hub(src: Path, workers: int, **settings: str) -> Iterator[Hub]:
    """`redress serve` from the source tree `src` on a fresh SQLite database."""
    folder = Path(tempfile.mkdtemp(prefix="redress-attack-"))
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("REDRESS_")},
        "PYTHONPATH": str(src),
        "REDRESS_DATABASE_URL": f"sqlite:///{folder / 'hub.db'}",
        "REDRESS_SECRET_KEY": base64.b64encode(os.urandom(32)).decode(),
        "REDRESS_LOG_LEVEL": "WARNING",
        **{f"REDRESS_{k.upper()}": v for k, v in settings.items()},
    }
    command = [sys.executable, "-m", "redress"]
    subprocess.run([*command, "db", "upgrade"], env=env, check=True, capture_output=True)
    port = free_port()
    process = subprocess.Popen(
        [*command, "serve", "--port", str(port), "--workers", str(workers)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        with httpx.Client(base_url=url, timeout=120) as client:
            for _ in range(600):  # until every worker has started (at most ~60 s)
                try:
                    if client.get("/healthz").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if process.poll() is not None:
                    sys.exit(f"the hub from {src} exited with {process.returncode}")
                time.sleep(0.1)
            time.sleep(1.0 if workers > 1 else 0)  # the second worker binds a moment later
            yield Hub(url, client)
    finally:
        process.terminate()
        process.wait(30)


def parallel(size: int, task: Any) -> list[str]:
    """Run `task(n)` for n in 0..size-1 on as many threads, released together by a barrier."""
    barrier = threading.Barrier(size)
    results: list[str] = []
    lock = threading.Lock()

    def run(n: int) -> None:
        barrier.wait()
        outcome = task(n)
        with lock:
            results.append(outcome)

    threads = [threading.Thread(target=run, args=(n,)) for n in range(size)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(300)
    return results


def pin_burst(running: Hub, size: int, address: str) -> dict[str, Any]:
    """`size` wrong PINs at once against one case from `address` (as the proxy reports it, so
    each burst has its own rate limits), then the right PIN."""
    case = running.create().json()
    number = case["case_number"]
    proxied = {"X-Forwarded-For": address}
    codes = parallel(size, lambda n: running.status(number, f"{(n * 7919) % 10**8:08d}", proxied))
    right = running.status(number, case["pin"], proxied)
    return {
        "guesses": size,
        "checked": codes.count("wrong_case_or_pin"),
        "refused": size - codes.count("wrong_case_or_pin"),
        "right_pin_then": right,
    }


def spoofed_creations(running: Hub, count: int) -> dict[str, Any]:
    """Creations, each with a new client-written first X-Forwarded-For entry."""
    accepted = 0
    for n in range(count):
        spoof = {"X-Forwarded-For": f"10.{n // 250}.{n % 250}.1, {PROXY}"}
        accepted += running.create(spoof).status_code == 201
    return {"sent": count, "accepted": accepted}


def spoofed_pin_spray(running: Hub, count: int) -> dict[str, Any]:
    """Wrong PINs on `count` made-up case numbers, each with a new spoofed entry."""
    from redress.hub.cases.credentials import new_case_number

    codes = [
        running.status(
            new_case_number(),
            "12345678",
            {"X-Forwarded-For": f"10.9.{n % 250}.{n // 250}, {PROXY}"},
        )
        for n in range(count)
    ]
    return {"sent": count, "checked": codes.count("wrong_case_or_pin")}


def status_checks(running: Hub, count: int) -> dict[str, Any]:
    """Status checks from one address, 8 at a time (so both workers answer)."""
    from redress.hub.cases.credentials import new_case_number

    def one(_n: int) -> str:
        # A fresh connection each time, so the kernel spreads them over the workers; the
        # address is the one the (simulated) proxy appends, which no other attack here uses.
        with httpx.Client(base_url=running.url, timeout=120) as client:
            answer = client.post(
                f"/v1/cases/{new_case_number()}/status",
                json={"pin": "1" * 8},
                headers={"X-Forwarded-For": "203.0.113.50"},
            )
            return str(answer.json()["code"])

    codes: list[str] = []
    for start in range(0, count, 8):
        codes += parallel(min(8, count - start), one)
    return {"sent": count, "passed_rate_limit": sum(c != "rate_limited" for c in codes)}


# (limit setting, its value, requests sent) per attack; --quick lowers the limits so that fewer
# requests (each costing an argon2id hash or check) show the same thing.
FULL = {"creation": ("20/hour", 25), "spray": (30, 60), "status": ("120/hour", 250)}
QUICK = {"creation": ("5/hour", 8), "spray": (5, 10), "status": ("120/hour", 130)}


def attack(src: Path, quick: bool) -> dict[str, Any]:
    """Every attack against the hub from `src` (with --quick: 2 workers only, lower limits)."""
    plan = QUICK if quick else FULL
    settings = {
        "trust_forwarded_for": "true",  # one proxy in front (both versions understand it)
        "case_creation_rate": str(plan["creation"][0]),
        "client_pin_failures_per_hour": str(plan["spray"][0]),
        "status_rate": str(plan["status"][0]),
    }
    sizes = [40] if quick else [40, 100]
    result: dict[str, Any] = {"src": str(src)}
    started = time.perf_counter()
    for workers in [2] if quick else [1, 2]:
        with hub(src, workers, **settings) as running:
            result[f"burst_{workers}_workers"] = [
                pin_burst(running, size, f"198.51.100.{index}") for index, size in enumerate(sizes)
            ]
            if workers == 2:
                result["spoofed_creations"] = spoofed_creations(running, plan["creation"][1])
                result["spoofed_pin_spray"] = spoofed_pin_spray(running, plan["spray"][1])
                result["status_2_workers"] = status_checks(running, plan["status"][1])
    result["seconds"] = round(time.perf_counter() - started, 1)
    print(f"{src}: {result['seconds']} s", file=sys.stderr)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--src", type=Path, help="also run the hub from this source tree")
    parser.add_argument("--quick", action="store_true", help="2 workers, lower limits")
    args = parser.parse_args()
    trees = {"this": REPO / "src"}
    if args.src:
        trees["other"] = args.src.resolve()
    runs = {name: attack(src, args.quick) for name, src in trees.items()}
    plan = QUICK if args.quick else FULL
    limits = {
        "pin_burst_budget_one_address": 5,
        "case_creation_rate": plan["creation"][0],
        "client_pin_failures_per_hour": plan["spray"][0],
        "status_rate": plan["status"][0],
    }
    path = write_result("attacks_hub_pins", {"quick": args.quick, "limits": limits, "runs": runs})
    print(f"{'':46}" + "".join(f"{name:>18}" for name in runs))
    for workers in [2] if args.quick else [1, 2]:
        key = f"burst_{workers}_workers"
        for index in range(len(runs["this"][key])):
            cells = [run[key][index] for run in runs.values()]
            label = f"PIN burst, {workers} worker(s): checked / sent"
            print(f"{label:46}" + "".join(f"{c['checked']:>9} / {c['guesses']:<6}" for c in cells))
            then = "".join(f"{c['right_pin_then']:>18}" for c in cells)
            print(f"{'  then the right PIN':46}{then}")
    for label, key, field in [
        (
            f"spoofed-XFF creations accepted (limit {plan['creation'][0]})",
            "spoofed_creations",
            "accepted",
        ),
        (
            f"spoofed-XFF PIN spray checked (limit {plan['spray'][0]})",
            "spoofed_pin_spray",
            "checked",
        ),
        (
            f"status, 2 workers: passed (limit {plan['status'][0]})",
            "status_2_workers",
            "passed_rate_limit",
        ),
    ]:
        cells = [run[key] for run in runs.values()]
        print(f"{label:46}" + "".join(f"{c[field]:>9} / {c['sent']:<6}" for c in cells))
    print(f"wrote {path}", file=sys.stderr)


if __name__ == "__main__":
    main()
