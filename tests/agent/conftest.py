"""A real agent process (`redress agent`) against a real hub over loopback."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from redress.agent.migrations import AGENT
from redress.db import make_engine
from redress.db.migrate import upgrade
from tests.hub.conftest import RunningHub, database_url, hub  # noqa: F401

TOKEN = "agent-test-token-0123456789"


def migrate_agent(url: str) -> str:
    """Bring the agent's database at `url` to the latest schema (as `redress agent db upgrade`
    does); returns `url`."""
    engine = make_engine(url)
    try:
        upgrade(engine, chain=AGENT)
    finally:
        engine.dispose()
    return url


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
    """Start `redress agent` on a free port (its database migrated) and wait until it answers."""
    migrate_agent(database)
    port = free_port()
    environment = {
        **os.environ,
        "REDRESS_AGENT_DATABASE_URL": database,
        "REDRESS_AGENT_STATE_DIR": str(state),
        "REDRESS_AGENT_TOKEN": TOKEN,
        "REDRESS_AGENT_HUB_KEY": key,  # as the README says: never on the command line
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


class Gate:
    """A TCP forwarder on loopback in front of a server: `cut()` drops every connection and
    refuses new ones (the network or the hub going away), `restore()` lets them through."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.open = True
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if not self.open:
                client.close()
                continue
            try:
                upstream = socket.create_connection(("127.0.0.1", self.target_port))
            except OSError:
                client.close()
                continue
            with self._lock:
                self._sockets += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for end in (source, sink):
                with contextlib.suppress(OSError):
                    end.shutdown(socket.SHUT_RDWR)

    def cut(self) -> None:
        self.open = False
        with self._lock:
            for sock in self._sockets:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                sock.close()
            self._sockets.clear()

    def restore(self) -> None:
        self.open = True

    def close(self) -> None:
        self.cut()
        self.listener.close()
