"""A real agent process (`redress agent`) against a real hub over loopback."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.hub.conftest import RunningHub, database_url, hub, postgres_server  # noqa: F401

TOKEN = "agent-test-token-0123456789"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(condition: Any, timeout: float, what: str) -> float:
    """Poll `condition` until true; returns seconds taken; fails with `what` after `timeout`."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if condition():
            return time.monotonic() - started
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


@dataclass
class AgentProcess:
    """A running `redress agent` and an HTTP client for it."""

    process: subprocess.Popen[bytes]
    url: str
    client: httpx.Client
    log: Path

    def check(self, **body: Any) -> dict[str, Any]:
        response = self.client.post("/v1/check", json=body)
        assert response.status_code == 200, response.text
        return dict(response.json())

    def hubs(self) -> list[dict[str, Any]]:
        return list(self.client.get("/v1/hubs").json()["hubs"])

    def ready(self) -> bool:
        try:
            return self.client.get("/readyz").status_code == 200
        except httpx.TransportError:
            return False

    def stop(self, kill: bool = False) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL if kill else signal.SIGTERM)
            self.process.wait(30)
        self.client.close()


def start_agent(hub_url: str, key: str, state: Path, database: str, **env: str) -> AgentProcess:
    """Start `redress agent` on a free port and wait until it answers."""
    port = free_port()
    environment = {
        **os.environ,
        "REDRESS_AGENT_DATABASE_URL": database,
        "REDRESS_AGENT_STATE_DIR": str(state),
        "REDRESS_AGENT_TOKEN": TOKEN,
        "REDRESS_AGENT_POLL_SECONDS": "0.2",
        "REDRESS_AGENT_LONG_POLL_SECONDS": "1",
        **env,
    }
    log = state.with_suffix(f".{port}.log")
    with log.open("wb") as out:
        process = subprocess.Popen(
            [
                str(Path(sys.executable).parent / "redress"),
                "agent",
                "--hub-url",
                hub_url,
                "--hub-key",
                key,
                "--port",
                str(port),
            ],
            env=environment,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    client = httpx.Client(base_url=url, timeout=30, headers={"Authorization": f"Bearer {TOKEN}"})
    agent = AgentProcess(process, url, client, log)

    def answering() -> bool:
        assert process.poll() is None, log.read_text()
        try:
            client.get("/healthz")
            return True
        except httpx.TransportError:
            return False

    wait_for(answering, 60, "the agent to listen")
    return agent


@pytest.fixture
def agent_factory(tmp_path: Path) -> Iterator[Any]:
    started: list[AgentProcess] = []

    def make(
        running: RunningHub, key: str, database: str | None = None, **env: str
    ) -> AgentProcess:
        db = database or f"sqlite:///{tmp_path / 'agent.db'}"
        agent = start_agent(running.url, key, tmp_path / "agent-state", db, **env)
        started.append(agent)
        return agent

    yield make
    for agent in started:
        agent.stop()
