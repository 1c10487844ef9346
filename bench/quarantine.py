"""What the agent's flood safeguard adds to `check` (in process, SQLite):

1. `mark` of a check's matches with nothing quarantined (the common case) and with 1,000
   signals quarantined, in microseconds per check;
2. `observe` (the counting done for a check that matched) in microseconds per check, for
   distinct uploads spread over 1,000 signals, and for a flood on one signal;
3. a flush: seconds to save the pairs counted since the previous one.

At the agent's ~2,300 checks/s a check has ~435 µs; these are the safeguard's share of it.

Usage: python bench/quarantine.py [--checks N] [--quick]
"""

from __future__ import annotations

import argparse
import secrets
import tempfile
import time
from pathlib import Path

from prometheus_client import CollectorRegistry

from _common import write_result
from redress.agent.check.service import CheckResult, Match
from redress.agent.migrations import AGENT
from redress.agent.quarantine.service import Quarantine
from redress.db import make_engine, make_session_factory, unit_of_work
from redress.db.migrate import upgrade
from redress.hashing.files import SignalRecord


def per_call_us(seconds: float, calls: int) -> float:
    return round(seconds / calls * 1e6, 2)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--checks", type=int, default=200_000)
    parser.add_argument("--quick", action="store_true", help="20,000 checks (CI-ish)")
    args = parser.parse_args()
    checks = 20_000 if args.quick else args.checks
    with tempfile.TemporaryDirectory() as folder:
        engine = make_engine(f"sqlite:///{Path(folder) / 'agent.db'}")
        upgrade(engine, chain=AGENT)
        sessions = make_session_factory(engine)
        quarantine = Quarantine(
            lambda: unit_of_work(sessions),
            CollectorRegistry(),
            threshold=1_000_000,  # count, never trip: the cost of counting alone
            window_seconds=3600,
        )
        signals = [
            Match("hub", "pdq", secrets.token_hex(32), ("i",), 5, "review") for _ in range(1000)
        ]
        uploads = [[SignalRecord("sha256", secrets.token_hex(32))] for _ in range(checks)]

        started = time.perf_counter()
        for number in range(checks):
            quarantine.mark([signals[number % 1000]])
        mark_none = per_call_us(time.perf_counter() - started, checks)

        started = time.perf_counter()
        for number in range(checks):
            result = CheckResult("review", [signals[number % 1000]], signals=uploads[number])
            quarantine.observe(result, None)
        observe_spread = per_call_us(time.perf_counter() - started, checks)

        started = time.perf_counter()
        quarantine.flush()
        flush_spread = round(time.perf_counter() - started, 3)

        started = time.perf_counter()
        for number in range(checks):
            result = CheckResult("review", [signals[0]], signals=uploads[number])
            quarantine.observe(result, None)
        observe_flood = per_call_us(time.perf_counter() - started, checks)

        for number in range(1000):
            quarantine._quarantined[f"{number:032x}"] = number  # 1,000 others quarantined
        started = time.perf_counter()
        for number in range(checks):
            quarantine.mark([signals[number % 1000]])
        mark_some = per_call_us(time.perf_counter() - started, checks)
        engine.dispose()
    figures = {
        "checks": checks,
        "mark_nothing_quarantined_us": mark_none,
        "mark_1000_quarantined_us": mark_some,
        "observe_spread_over_1000_signals_us": observe_spread,
        "observe_flood_on_one_signal_us": observe_flood,
        "flush_of_those_pairs_s": flush_spread,
        "pairs_flushed": checks,
    }
    for name, value in figures.items():
        print(f"{name}: {value}")
    write_result("quarantine", figures)


if __name__ == "__main__":
    main()
