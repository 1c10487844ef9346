"""Replays the resource attacks on a `redress agent` process over loopback and prints what they
cost it:

1. memory: the agent's peak resident memory (VmHWM) for one upload of a 10000 x 10000 16-bit
   greyscale PNG and of an RGBA one (each a few hundred KB), then N uploads at once;
2. the event loop: checks per second and p99 latency of ordinary one-hash checks, alone and
   while heavy JSON checks arrive about once a second (64 vPDQ signals x 2,400 frames, as in
   the report; and the largest check the limits accept, 4 x 2,400 frames).

`--src PATH` runs the agent from another source tree (PYTHONPATH=PATH/src), so the figures of
an older commit can be printed beside the current ones:
    git worktree add /tmp/old-main 0281fe3
    python bench/attacks_agent.py --quick --src /tmp/old-main --out attacks_agent_before
Uploads at once are capped to what 40 % of the machine's available memory allows, judged from the
one-upload peak (the old agent took ~2.7 GB per upload); the cap is recorded in the output.

Usage: python bench/attacks_agent.py [--quick] [--src PATH] [--at-once N] [--seconds S]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import psutil
from PIL import Image

from _common import REPO, write_result

TOKEN = "bench-token-0123456789abcdef"
SIDE = 10_000


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def make_images(folder: Path) -> dict[str, Path]:
    """The two attack images: a grid of lines, so they compress to a few hundred KB."""
    grey = np.zeros((SIDE, SIDE), dtype=np.uint16)
    grey[::97, :] = 40_000
    grey[:, ::89] = 1_000
    Image.fromarray(grey).save(folder / "grey16.png")
    del grey
    rgba = np.zeros((SIDE, SIDE, 4), dtype=np.uint8)
    rgba[::97, :, 0] = 255
    rgba[:, ::89, 3] = 255
    rgba[..., 3] |= 128
    Image.fromarray(rgba, "RGBA").save(folder / "rgba.png")
    return {"grey16": folder / "grey16.png", "rgba": folder / "rgba.png"}


def package_root(src: Path) -> Path:
    """The folder that holds the `redress` package: a checkout's `src/`, or `src` itself (the
    other attack benches take the `src/` folder); refused when neither holds it."""
    for candidate in (src / "src", src):
        if (candidate / "redress" / "__init__.py").is_file():
            return candidate
    raise SystemExit(f"--src {src}: no redress package in it or in its src/ folder")


class AgentUnderTest:
    """A `redress agent` subprocess from `src` (following a hub that is not there)."""

    def __init__(self, src: Path, state: Path) -> None:
        self.port = free_port()
        env = {
            **os.environ,
            "PYTHONPATH": str(package_root(src)),
            "REDRESS_AGENT_DATABASE_URL": f"sqlite:///{state / 'agent.db'}",
            "REDRESS_AGENT_STATE_DIR": str(state),
            "REDRESS_AGENT_TOKEN": TOKEN,
            "REDRESS_AGENT_POLL_SECONDS": "30",
            "REDRESS_AGENT_LOG_LEVEL": "ERROR",
        }
        state.mkdir(parents=True, exist_ok=True)
        # Sources with the agent's own migrations need them run first; older ones (which made
        # their tables themselves) have no such command and say so: nothing to do then.
        subprocess.run(
            [sys.executable, "-m", "redress", "agent", "db", "upgrade"],
            env=env,
            capture_output=True,
            check=False,
        )
        self.log = (state / "agent.log").open("wb")
        hub = ["--hub-url", "http://127.0.0.1:9", "--hub-key", "rk_bench"]
        self.process = subprocess.Popen(
            [sys.executable, "-m", "redress", "agent", *hub, "--port", str(self.port)],
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        self.url = f"http://127.0.0.1:{self.port}"
        self.headers = {"Authorization": f"Bearer {TOKEN}"}
        started = time.monotonic()
        while time.monotonic() - started < 60:
            if self.process.poll() is not None:
                raise SystemExit(f"the agent exited: {(state / 'agent.log').read_text()[-2000:]}")
            try:
                httpx.get(self.url + "/healthz", timeout=1)
                return
            except httpx.TransportError:
                time.sleep(0.1)
        raise SystemExit("the agent did not start")

    def rss_mb(self) -> float:
        if self.process.poll() is not None:
            return 0.0
        return psutil.Process(self.process.pid).memory_info().rss / 2**20

    def peak_mb(self) -> float | str:
        """VmHWM: the highest resident memory since the last `reset_peak`."""
        if self.process.poll() is not None:
            return f"the agent died (exit status {self.process.returncode})"
        status = Path(f"/proc/{self.process.pid}/status").read_text()
        line = next(x for x in status.splitlines() if x.startswith("VmHWM:"))
        return int(line.split()[1]) / 1024

    def reset_peak(self) -> bool:
        try:
            Path(f"/proc/{self.process.pid}/clear_refs").write_text("5")
            return True
        except OSError:
            return False

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.log.close()


def upload(agent: AgentUnderTest, path: Path) -> tuple[int, str, float]:
    started = time.perf_counter()
    with httpx.Client(base_url=agent.url, headers=agent.headers, timeout=600) as client:
        try:
            response = client.post("/v1/check", files={"file": (path.name, path.read_bytes())})
        except httpx.TransportError as exc:
            return 0, type(exc).__name__, time.perf_counter() - started
    code = response.json().get("code", "") if response.status_code != 200 else ""
    return response.status_code, code, time.perf_counter() - started


def memory_attack(agent: AgentUnderTest, images: dict[str, Path], at_once: int) -> dict[str, Any]:
    figures: dict[str, Any] = {"idle_rss_mb": round(agent.rss_mb())}
    worst = 0.0
    for name, path in images.items():
        agent.reset_peak()
        before = agent.rss_mb()
        status, code, seconds = upload(agent, path)
        peak = agent.peak_mb()
        if isinstance(peak, str):
            raise SystemExit(f"{name}: {peak}")
        worst = max(worst, peak - before)
        figures[f"one_{name}"] = {
            "status": status,
            **({"code": code} if code else {}),
            "seconds": round(seconds, 1),
            "peak_rss_mb": round(peak),
            "grew_mb": round(peak - before),
        }
    # N at once, capped to what half the available memory allows at the one-upload peak.
    available = psutil.virtual_memory().available / 2**20
    allowed = max(1, int(available * 0.4 / max(worst, 1.0)))
    count = min(at_once, allowed)
    figures["at_once"] = {"asked": at_once, "ran": count}
    if count < at_once:
        figures["at_once"]["capped_because"] = (
            f"one upload grew the agent by {worst:.0f} MB; {at_once} at once could take "
            f"{worst * at_once:.0f} MB of the {available:.0f} MB available"
        )
    agent.reset_peak()
    results: list[tuple[int, str, float]] = []
    barrier = threading.Barrier(count)

    def one() -> None:
        barrier.wait()
        results.append(upload(agent, images["grey16"]))

    threads = [threading.Thread(target=one) for _ in range(count)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    figures["at_once"].update(
        {
            "image": "grey16",
            "peak_rss_mb": _rounded(agent.peak_mb()),
            "seconds": round(time.perf_counter() - started, 1),
            "answers": sorted(f"{s} {c}".strip() for s, c, _ in results),
        }
    )
    return figures


def _rounded(value: float | str) -> float | str:
    return round(value) if isinstance(value, float) else value


def vpdq_value(frames: int, seed: int) -> str:
    rng = np.random.default_rng(seed)
    return "\n".join(f"{n},100,{rng.bytes(32).hex()},{float(n):.3f}" for n in range(frames))


async def load(
    agent: AgentUnderTest, seconds: float, connections: int, heavy: bytes | None
) -> dict[str, Any]:
    """Ordinary checks (one PDQ hash) on `connections` connections for `seconds`, with `heavy`
    posted about once a second meanwhile."""
    latencies: list[float] = []
    heavy_answers: list[str] = []
    deadline = time.perf_counter() + seconds
    rng = np.random.default_rng(1)
    bodies = [
        json.dumps({"signals": [{"type": "pdq", "value": rng.bytes(32).hex()}]}).encode()
        for _ in range(256)
    ]
    headers = {**agent.headers, "content-type": "application/json"}

    async def worker(number: int) -> None:
        async with httpx.AsyncClient(base_url=agent.url, headers=headers, timeout=60) as client:
            sent = number
            while time.perf_counter() < deadline:
                started = time.perf_counter()
                response = await client.post("/v1/check", content=bodies[sent % len(bodies)])
                response.raise_for_status()
                latencies.append(time.perf_counter() - started)
                sent += connections

    async def attacker() -> None:
        assert heavy is not None
        async with httpx.AsyncClient(base_url=agent.url, headers=headers, timeout=120) as client:
            while time.perf_counter() < deadline:
                tick = time.perf_counter()
                try:
                    response = await client.post("/v1/check", content=heavy)
                    code = response.json().get("code", "") if response.status_code != 200 else ""
                    heavy_answers.append(f"{response.status_code} {code}".strip())
                except httpx.TransportError as exc:
                    heavy_answers.append(type(exc).__name__)
                await asyncio.sleep(max(0.0, 1.0 - (time.perf_counter() - tick)))

    started = time.perf_counter()
    tasks = [worker(n) for n in range(connections)] + ([attacker()] if heavy else [])
    await asyncio.gather(*tasks)
    elapsed = time.perf_counter() - started
    ordered = sorted(latencies)
    figures: dict[str, Any] = {
        "checks_per_second": round(len(ordered) / elapsed),
        "p50_ms": round(ordered[len(ordered) // 2] * 1000, 2),
        "p99_ms": round(ordered[int(len(ordered) * 0.99)] * 1000, 2),
    }
    if heavy is not None:
        figures["heavy_answers"] = {a: heavy_answers.count(a) for a in sorted(set(heavy_answers))}
    return figures


def loop_attack(agent: AgentUnderTest, seconds: float, connections: int) -> dict[str, Any]:
    def body(signals: int, frames: int) -> bytes:
        return json.dumps(
            {"signals": [{"type": "vpdq", "value": vpdq_value(frames, n)} for n in range(signals)]}
        ).encode()

    reported, accepted = body(64, 2_400), body(4, 2_400)
    # Time one heavy check alone first (its cost to the agent, whatever thread it runs on).
    timings = {}
    with httpx.Client(base_url=agent.url, headers=agent.headers, timeout=120) as client:
        for name, payload in (("64x2400", reported), ("4x2400", accepted)):
            started = time.perf_counter()
            response = client.post(
                "/v1/check", content=payload, headers={"content-type": "application/json"}
            )
            timings[name] = {
                "status": response.status_code,
                "seconds": round(time.perf_counter() - started, 3),
                "body_mb": round(len(payload) / 2**20, 1),
            }
    return {
        "one_heavy_check": timings,
        "normal_alone": asyncio.run(load(agent, seconds, connections, None)),
        "with_64x2400_each_second": asyncio.run(load(agent, seconds, connections, reported)),
        "with_4x2400_each_second": asyncio.run(load(agent, seconds, connections, accepted)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--src", type=Path, default=REPO, help="source tree to run the agent from")
    parser.add_argument("--quick", action="store_true", help="short run (about a minute)")
    parser.add_argument("--at-once", type=int, default=8, help="uploads at once")
    parser.add_argument("--seconds", type=float, default=20.0, help="per load phase")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--out", default="attacks_agent", help="name of bench/out/NAME.json")
    args = parser.parse_args()
    seconds = 4.0 if args.quick else args.seconds
    src = args.src.resolve()
    commit = subprocess.run(
        ["git", "-C", str(src), "rev-parse", "--short", "HEAD"], capture_output=True, text=True
    ).stdout.strip()
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        images = make_images(root)
        agent = AgentUnderTest(src, root / "state")
        figures: dict[str, Any] = {
            "agent_source": f"{src} ({commit or 'not a git tree'})",
            "image_kb": {n: round(p.stat().st_size / 1024) for n, p in images.items()},
        }
        try:
            figures["memory"] = memory_attack(agent, images, args.at_once)
            figures["agent_rss_after_uploads_mb"] = round(agent.rss_mb())
            if agent.process.poll() is not None:  # killed by the uploads: a fresh one goes on
                figures["agent_restarted"] = True
                agent = AgentUnderTest(src, root / "state2")
            figures["event_loop"] = loop_attack(agent, seconds, args.connections)
        finally:
            agent.stop()
    target = write_result(args.out, figures)
    print(json.dumps(json.loads(target.read_text()), indent=2))
    print(f"written to {target}")


if __name__ == "__main__":
    main()
