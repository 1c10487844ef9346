"""The agent end to end on loopback, with a real hub (SQLite) holding a bank of 1,000,000 random
PDQ signals:

1. feed ingest: signals per second from the hub's compact feed (/v1/feed.bin) into a fresh
   agent's indexes, cold (the hub encodes every block from its database) and warm (blocks
   served from the hub's cache, as for every platform after the first);
2. update latency: a case created at the hub until `check` at the agent answers `review`
   (and a withdrawal until it answers `allow`), 100 trials each, default poll interval;
3. `check` over HTTP with hashes against a `redress agent` process: requests per second and
   p50/p99 latency under a bounded load (a fixed number of keep-alive connections).

Usage: python bench/agent.py [--signals N] [--trials N] [--seconds S] [--connections C] [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import secrets
import sys
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np

from _common import REPO, write_result
from hub_throughput import load_bank, start
from redress.agent.app import create_agent_app
from redress.agent.config import AgentSettings, HubConfig
from redress.agent.runtime import Agent
from redress.config import Settings
from redress.core.clock import SystemClock
from redress.db import make_engine, make_session_factory, unit_of_work
from redress.feed.client import FeedClient
from redress.hub.app import create_app
from redress.hub.participants import service as participants
from redress.hub.participants.schemas import DEFAULT_SCOPES

sys.path.insert(0, str(REPO))  # the agent process is started as the two-process tests do
from tests.agent.conftest import TOKEN, migrate_agent, start_agent


def ingest(hub_url: str, key: str, state: Path) -> tuple[int, float]:
    """A fresh agent's first full sync: (signals indexed, seconds)."""
    state.mkdir(parents=True, exist_ok=True)
    agent = Agent(
        AgentSettings(
            database_url=migrate_agent(f"sqlite:///{state / 'agent.db'}"), state_dir=str(state)
        ),
        [HubConfig("bench", hub_url, key)],
    )
    follower = agent.followers["bench"]
    started = time.perf_counter()
    with FeedClient(hub_url, key, timeout=httpx.Timeout(300)) as client:
        while follower.sync_once(client):
            pass
    seconds = time.perf_counter() - started
    count = len(follower.bank)
    agent.engine.dispose()
    return count, seconds


def wait_until(condition: object, timeout: float = 30.0) -> float:
    started = time.perf_counter()
    while not condition():  # type: ignore[operator]
        if time.perf_counter() - started > timeout:
            raise SystemExit("timed out")
        time.sleep(0.005)
    return time.perf_counter() - started


def update_latency(hub: httpx.Client, agent: httpx.Client, trials: int) -> dict[str, float]:
    version = hub.get("/v1/statement").json()["version"]
    adds, removals = [], []
    for _ in range(trials):
        value = secrets.token_hex(32)
        body = {
            "statement_version": version,
            "items": [{"signals": [{"type": "pdq", "value": value}]}],
        }
        created = hub.post("/v1/cases", json=body).json()
        check = {"signals": [{"type": "pdq", "value": value}]}

        def decision(check: dict[str, object] = check) -> str:
            return str(agent.post("/v1/check", json=check).json()["decision"])

        started = time.perf_counter()
        wait_until(lambda: decision() == "review")
        adds.append(time.perf_counter() - started)
        hub.post(f"/v1/cases/{created['case_number']}/withdraw", json={"pin": created["pin"]})
        started = time.perf_counter()  # from the hub's answer: the withdrawal is committed
        wait_until(lambda: decision() == "allow")
        removals.append(time.perf_counter() - started)
    return {
        "add_median_s": round(float(np.median(adds)), 3),
        "add_worst_s": round(max(adds), 3),
        "withdraw_median_s": round(float(np.median(removals)), 3),
        "withdraw_worst_s": round(max(removals), 3),
    }


async def load(url: str, bodies: list[bytes], seconds: float, connections: int) -> list[float]:
    """Keep-alive connections each sending one request after another; latencies in seconds."""
    host, port = url.removeprefix("http://").split(":")
    latencies: list[float] = []
    deadline = time.perf_counter() + seconds

    async def connection(number: int) -> None:
        reader, writer = await asyncio.open_connection(host, int(port))
        sent = number
        while time.perf_counter() < deadline:
            body = bodies[sent % len(bodies)]
            sent += connections
            started = time.perf_counter()
            writer.write(
                b"POST /v1/check HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\n"
                + f"Authorization: Bearer {TOKEN}\r\nContent-Length: {len(body)}\r\n\r\n".encode()
                + body
            )
            head = await reader.readuntil(b"\r\n\r\n")
            length = int(head.lower().split(b"content-length:")[1].split(b"\r\n")[0])
            await reader.readexactly(length)
            if not head.startswith(b"HTTP/1.1 200"):
                raise SystemExit(f"check failed: {head!r}")
            latencies.append(time.perf_counter() - started)
        writer.close()

    await asyncio.gather(*(connection(n) for n in range(connections)))
    return latencies


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--signals", type=int, default=1_000_000)
    parser.add_argument("--trials", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument(
        "--quick", action="store_true", help="100,000 signals, 20 trials, 5 s of checks"
    )
    args = parser.parse_args()
    if args.quick:
        args.signals, args.trials, args.seconds = 100_000, 20, 5.0
    folder = Path(tempfile.mkdtemp(prefix="redress-agent-bench-"))
    url = f"sqlite:///{folder / 'hub.db'}"
    load_bank(url, args.signals)
    settings = Settings(
        database_url=url,
        secret_key=base64.b64encode(os.urandom(32)).decode(),
        case_creation_rate="1000000/minute",
        status_rate="1000000/minute",
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
    hub_server, hub_url = start(create_app(settings))
    result: dict[str, object] = {
        "quick": args.quick,
        "bank_signals": args.signals,
        "trials": args.trials,
        "check_seconds": args.seconds,
    }

    count, cold = ingest(hub_url, key, folder / "cold")
    count_warm, warm = ingest(hub_url, key, folder / "warm")
    assert count == count_warm == args.signals, (count, count_warm)
    result["ingest_cold_signals_per_s"] = round(count / cold)
    result["ingest_warm_signals_per_s"] = round(count / warm)
    result["ingest_cold_s"] = round(cold, 2)
    result["ingest_warm_s"] = round(warm, 2)
    print(
        f"feed ingest of {count:,} signals over HTTP: cold {cold:.2f} s "
        f"({count / cold:,.0f}/s), warm {warm:.2f} s ({count / warm:,.0f}/s)"
    )

    agent = Agent(
        AgentSettings(
            database_url=migrate_agent(f"sqlite:///{folder / 'latency.db'}"),
            state_dir=str(folder / "latency"),
            token=TOKEN,
        ),
        [HubConfig("bench", hub_url, key)],
    )
    agent_server, agent_url = start(create_agent_app(agent))
    headers = {"Authorization": f"Bearer {TOKEN}"}
    with (
        httpx.Client(base_url=hub_url, timeout=60) as hub,
        httpx.Client(base_url=agent_url, timeout=60, headers=headers) as client,
    ):
        wait_until(lambda: client.get("/readyz").status_code == 200, 300)
        latency = update_latency(hub, client, args.trials)
    agent_server.should_exit = True
    result.update(latency)
    print(
        f"update latency over {args.trials} trials (long poll of "
        f"{agent.settings.long_poll_seconds:g} s): add median {latency['add_median_s']} s, worst "
        f"{latency['add_worst_s']} s; withdrawal median {latency['withdraw_median_s']} s, "
        f"worst {latency['withdraw_worst_s']} s"
    )

    # A `redress agent` process, started as the two-process tests start it, with its defaults.
    process = start_agent(
        hub_url,
        key,
        folder / "process",
        f"sqlite:///{folder / 'process.db'}",
        REDRESS_AGENT_POLL_SECONDS="1",
        REDRESS_AGENT_LONG_POLL_SECONDS="5",
    )
    try:
        wait_until(process.ready, 300)
        rng = np.random.default_rng(1)
        bodies = [
            json.dumps({"signals": [{"type": "pdq", "value": rng.bytes(32).hex()}]}).encode()
            for _ in range(1000)
        ]
        asyncio.run(load(process.url, bodies[:50], 1.0, args.connections))  # warm up
        latencies = asyncio.run(load(process.url, bodies, args.seconds, args.connections))
    finally:
        process.stop()
    hub_server.should_exit = True
    rate = len(latencies) / args.seconds
    p50, p99 = (float(np.percentile(latencies, q)) * 1000 for q in (50, 99))
    result.update(
        {
            "check_connections": args.connections,
            "check_requests_per_s": round(rate),
            "check_p50_ms": round(p50, 2),
            "check_p99_ms": round(p99, 2),
        }
    )
    print(
        f"check over HTTP ({args.connections} keep-alive connections, {args.seconds:g} s, "
        f"{args.signals:,}-signal bank, load generator on the same 2 cores): {rate:,.0f} req/s, "
        f"p50 {p50:.2f} ms, p99 {p99:.2f} ms"
    )
    print(f"written to {write_result('agent', result)}")


if __name__ == "__main__":
    main()
