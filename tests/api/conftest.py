"""A hub and an agent following it, both served over loopback, with every kind of credential
their APIs know: platform keys per scope, a revoked key, a case (number and PIN), the agent
token. Shared by the schemathesis runs and the authorisation matrix."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from argon2 import PasswordHasher
from fastapi import FastAPI

from redress.agent.app import create_agent_app
from redress.agent.config import AgentSettings, HubConfig
from redress.agent.runtime import Agent
from redress.core.clock import ManualClock, SystemClock
from redress.db import make_engine, make_session_factory, unit_of_work
from redress.hub.app import create_app
from redress.hub.cases import credentials
from redress.hub.participants import service as participants
from redress.hub.participants.schemas import Scope
from tests.agent.conftest import TOKEN, migrate_agent
from tests.hub.conftest import (  # noqa: F401 (fixtures)
    RunningHub,
    _migrate,
    database_url,
    hub,
    hub_settings,
    pdq,
    serve_app,
)


@dataclass
class Apis:
    """The running hub and agent, and the credentials for them."""

    hub: RunningHub
    hub_app: FastAPI
    agent_url: str
    agent: Agent
    agent_app: FastAPI
    keys: dict[str, str]  # "all", one per scope value, and "revoked"
    case: dict[str, str]  # case_number, pin
    agent_clock: ManualClock  # times the moderator sign-in limit; tests move it


#: The hub's metrics token in these tests.
METRICS_TOKEN = "metrics-token-for-the-api-tests"


@pytest.fixture
def cheap_pins(monkeypatch: pytest.MonkeyPatch) -> None:
    """Argon2 at its cheapest for PINs: the APIs' behaviour is the same, a thousand requests
    on a shared CI machine are not minutes of hashing."""
    hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    monkeypatch.setattr(credentials, "_hasher", hasher)
    monkeypatch.setattr(credentials, "_DUMMY_HASH", hasher.hash("0" * credentials.PIN_DIGITS))


def _keys(url: str) -> dict[str, str]:
    engine = make_engine(url)
    clock = SystemClock()
    try:
        with unit_of_work(make_session_factory(engine)) as session:
            keys = {
                "all": participants.add_participant(
                    session, name="all-scopes", scopes=tuple(Scope), clock=clock
                )
            }
            for scope in Scope:
                keys[scope.value] = participants.add_participant(
                    session, name=f"only-{scope}", scopes=(scope,), clock=clock
                )
            keys["revoked"] = participants.add_participant(
                session, name="revoked", scopes=tuple(Scope), clock=clock
            )
            participants.revoke_participant(session, name="revoked", clock=clock)
        return keys
    finally:
        engine.dispose()


@pytest.fixture
def apis(tmp_path: Path, cheap_pins: None) -> Iterator[Apis]:
    """A hub on SQLite with one case in it, and an agent following it."""
    url = f"sqlite:///{tmp_path / 'hub.db'}"
    _migrate(url)
    keys = _keys(url)
    settings = hub_settings(url, metrics_token=METRICS_TOKEN)
    hub_app = create_app(settings)
    with serve_app(hub_app) as hub_url, httpx.Client(base_url=hub_url, timeout=30) as http:
        running = RunningHub(hub_url, settings, http)
        case = running.create_case([pdq()])
        agent = Agent(
            AgentSettings(
                database_url=migrate_agent(f"sqlite:///{tmp_path / 'agent.db'}"),
                state_dir=str(tmp_path / "agent-state"),
                token=TOKEN,
                poll_seconds=0.2,
                long_poll_seconds=1,
            ),
            [HubConfig(name="main", url=running.url, key=keys["all"])],
        )
        agent_clock = ManualClock()
        agent_app = create_agent_app(agent, clock=agent_clock)
        with serve_app(agent_app, "the agent") as agent_url:
            yield Apis(running, hub_app, agent_url, agent, agent_app, keys, case, agent_clock)
    hub_app.state.hub.engine.dispose()


def client(url: str, **headers: str) -> httpx.Client:
    """An HTTP client for one of the services, not following redirects."""
    return httpx.Client(base_url=url, timeout=30, headers=headers, follow_redirects=False)
