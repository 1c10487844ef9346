"""Hub throughput: the feed served to one platform from a bank of 1,000,000 signals (pages of
10,000 over real HTTP on loopback), and the case creation rate (argon2id PIN hashing included),
on the embedded SQLite database.

Usage: python bench/hub_throughput.py [--signals N] [--cases N] [--quick]
"""

from __future__ import annotations

import argparse
import base64
import os
import secrets
import statistics
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
import uvicorn
from sqlalchemy import insert
from starlette.types import ASGIApp

from _common import write_result
from redress.config import Settings
from redress.core.clock import SystemClock
from redress.db import make_engine, make_session_factory, unit_of_work
from redress.db.migrate import upgrade
from redress.hub.app import create_app
from redress.hub.cases.credentials import hash_pin, new_pin
from redress.hub.migrations import HUB
from redress.hub.models import FeedEntry, Signal
from redress.hub.participants import service as participants
from redress.hub.participants.schemas import DEFAULT_SCOPES

CHUNK = 50_000


def load_bank(url: str, count: int) -> None:
    """Insert `count` signals and their feed entries directly (the API path is measured below)."""
    engine = make_engine(url)
    upgrade(engine, HUB)
    moment, stamp = datetime.now(UTC), int(time.time())
    with engine.begin() as connection:
        for start in range(0, count, CHUNK):
            size = min(CHUNK, count - start)
            connection.execute(
                insert(Signal),
                [
                    {
                        "id": start + n + 1,
                        "type": "pdq",
                        "value": secrets.token_hex(32),
                        "status": "active",
                        "created_at": moment,
                        "modified_at": stamp,
                        "dispute_cleared": False,
                    }
                    for n in range(size)
                ],
            )
            connection.execute(
                insert(FeedEntry),
                [
                    {
                        "op": "add",
                        "reason": "added",
                        "signal_id": start + n + 1,
                        "item_ref": "i_" + secrets.token_hex(10),
                        "created_at": moment,
                    }
                    for n in range(size)
                ],
            )
    engine.dispose()


def start(app: ASGIApp) -> tuple[uvicorn.Server, str]:
    """Serve `app` on a free loopback port from a thread; (server, base URL)."""
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        thread.join(0.05)
    port = server.servers[0].sockets[0].getsockname()[1]
    return server, f"http://127.0.0.1:{port}"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--signals", type=int, default=1_000_000)
    parser.add_argument("--cases", type=int, default=200)
    parser.add_argument("--quick", action="store_true", help="100,000 signals, 50 cases")
    args = parser.parse_args()
    if args.quick:
        args.signals, args.cases = 100_000, 50
    folder = Path(tempfile.mkdtemp(prefix="redress-bench-"))
    url = f"sqlite:///{folder / 'bench.db'}"
    started = time.perf_counter()
    load_bank(url, args.signals)
    print(
        f"Loaded {args.signals:,} signals in {time.perf_counter() - started:.1f} s", file=sys.stderr
    )
    settings = Settings(
        database_url=url,
        secret_key=base64.b64encode(os.urandom(32)).decode(),
        case_creation_rate="1000000/minute",
        # Every bench case comes from one address within seconds: the flood holds would keep
        # them out of the feed after the 10th. The bench measures the ordinary path.
        flood_cases_per_source=0,
        flood_cases_per_hour=0,
        flood_signals_per_hour=0,
    )
    engine = make_engine(url)
    with unit_of_work(make_session_factory(engine)) as session:
        key = participants.add_participant(
            session, name="Bench", scopes=DEFAULT_SCOPES, clock=SystemClock()
        )
    engine.dispose()
    server, base = start(create_app(settings))
    with httpx.Client(base_url=base, timeout=120) as client:
        headers = {"Authorization": f"Bearer {key}"}
        cursor, served = "", 0
        started = time.perf_counter()
        while True:
            page = client.get(
                "/v1/feed", params={"cursor": cursor, "limit": 10_000}, headers=headers
            ).json()
            served += len(page["entries"])
            cursor = page["next_cursor"]
            if not page["has_more"]:
                break
        feed_seconds = time.perf_counter() - started
        version = client.get("/v1/statement").json()["version"]
        started = time.perf_counter()
        for _ in range(args.cases):
            body = {
                "statement_version": version,
                "items": [{"signals": [{"type": "pdq", "value": secrets.token_hex(32)}]}],
            }
            assert client.post("/v1/cases", json=body).status_code == 201
        case_seconds = time.perf_counter() - started
    server.should_exit = True
    # The PIN hash on its own (in process, no HTTP), to show what share of a creation it is.
    pin_times = []
    for _ in range(20):
        started = time.perf_counter()
        hash_pin(new_pin())
        pin_times.append(time.perf_counter() - started)
    result = {
        "quick": args.quick,
        "database": "SQLite (embedded default)",
        "bank_signals": args.signals,
        "feed_signals_served": served,
        "feed_signals_per_s": round(served / feed_seconds),
        "feed_seconds": round(feed_seconds, 1),
        "cases_created": args.cases,
        "cases_per_s": round(args.cases / case_seconds, 1),
        "pin_hash_median_ms": round(statistics.median(pin_times) * 1000, 1),
    }
    print("Hub throughput (SQLite, one process, real HTTP on loopback)")
    print(
        f"  feed export   {served:,} signals in {feed_seconds:.1f} s = "
        f"{result['feed_signals_per_s']:,} signals/s to one platform (pages of 10,000)"
    )
    print(
        f"  case creation {args.cases} cases in {case_seconds:.1f} s = "
        f"{result['cases_per_s']} cases/s (sequential, argon2id PIN hash included)"
    )
    print(f"  argon2id PIN hash {result['pin_hash_median_ms']} ms (median of 20, in process)")
    print(f"  written to {write_result('hub_throughput', result)}")


if __name__ == "__main__":
    main()
