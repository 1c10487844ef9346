"""The moderator sign-in limit (10 tries a minute per address) holds across agent processes
sharing a database, and against guesses sent in parallel. Time is a `ManualClock`."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import httpx

from redress.agent.app import create_agent_app
from redress.agent.config import AgentSettings
from redress.agent.runtime import Agent
from redress.core.clock import ManualClock
from tests.agent.conftest import TOKEN, migrate_agent
from tests.hub.conftest import serve_app


@contextmanager
def agents(tmp_path: Path, clock: ManualClock, count: int) -> Iterator[list[httpx.Client]]:
    """`count` agent apps (as separate processes would be) on one database, no hubs followed."""
    settings = AgentSettings(
        database_url=f"sqlite:///{tmp_path / 'agent.db'}",
        state_dir=str(tmp_path / "state"),
        token=TOKEN,
    )
    migrate_agent(settings.database_url)
    with ExitStack() as stack:
        clients = []
        for _ in range(count):
            app = create_agent_app(Agent(settings, []), start=False, clock=clock)
            url = stack.enter_context(serve_app(app, "the agent"))
            clients.append(stack.enter_context(httpx.Client(base_url=url, timeout=30)))
        yield clients


def sign_in(client: httpx.Client, token: str) -> int:
    answer = client.post("/review/signin", data={"token": token, "name": "sam"})
    return answer.status_code


def test_two_agent_processes_share_the_sign_in_limit(tmp_path: Path) -> None:
    clock = ManualClock()
    with agents(tmp_path, clock, 2) as clients:
        codes = [sign_in(clients[n % 2], f"guess{n}") for n in range(12)]
        assert codes == [401] * 10 + [429] * 2
        assert sign_in(clients[0], TOKEN) == 429
        clock.advance(60)
        assert sign_in(clients[1], TOKEN) == 303


def test_parallel_guesses_are_counted_before_the_token_is_compared(tmp_path: Path) -> None:
    clock = ManualClock()
    with agents(tmp_path, clock, 2) as clients:
        barrier = threading.Barrier(30)
        codes: list[int] = []
        lock = threading.Lock()

        def guess(n: int) -> None:
            barrier.wait()
            code = sign_in(clients[n % 2], f"guess{n}")
            with lock:
                codes.append(code)

        threads = [threading.Thread(target=guess, args=(n,)) for n in range(30)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        assert sorted(codes) == [401] * 10 + [429] * 20
