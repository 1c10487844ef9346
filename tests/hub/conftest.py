"""Hub fixtures: every hub test runs on SQLite and on a real PostgreSQL (a fresh database on the
run's one server, `postgres_server` in tests/conftest.py), against a real uvicorn server on
loopback."""

from __future__ import annotations

import base64
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from redress.config import Settings
from redress.core.clock import SystemClock
from redress.db import make_engine, make_session_factory, unit_of_work
from redress.db.migrate import upgrade
from redress.hub.app import create_app
from redress.hub.migrations import HUB
from redress.hub.participants import service as participants
from redress.hub.participants.schemas import DEFAULT_SCOPES, Scope

PDQ_A = "d8f8f0cce0f4a84f0e370a22028f67f0b36e2ed596623e1d33e6b39c4e9c9b22"
PDQ_B = "e64cc9d91e623842e64cc9d91e623842e64cc9d91e623842e64cc9d91e623842"
MD5_A = "a41771fba244b67f491b18a17251d78a"
SECRET = base64.b64encode(b"k" * 32).decode()


def _fresh_postgres_database(admin_url: str) -> Iterator[str]:
    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A migrated, empty database of each kind."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'hub.db'}"
        _migrate(url)
        yield url
        return
    admin = request.getfixturevalue("postgres_server")
    for url in _fresh_postgres_database(admin):
        _migrate(url)
        yield url


def _migrate(url: str) -> None:
    engine = make_engine(url)
    upgrade(engine, HUB)
    engine.dispose()


@dataclass
class RunningHub:
    """A hub served over loopback, with helpers for tests."""

    url: str
    settings: Settings
    client: httpx.Client

    def participant(self, name: str, scopes: tuple[Scope, ...] = DEFAULT_SCOPES) -> str:
        """Register a platform directly in the database; returns its API key."""
        engine = make_engine(self.settings.database_url)
        try:
            with unit_of_work(make_session_factory(engine)) as session:
                return participants.add_participant(
                    session, name=name, scopes=scopes, clock=SystemClock()
                )
        finally:
            engine.dispose()

    def statement_version(self) -> str:
        return str(self.client.get("/v1/statement").json()["version"])

    def create_case(self, *signal_lists: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
        """Create a case with one item per list of signals; returns {case_number, pin}."""
        body = {
            "statement_version": self.statement_version(),
            "items": [{"signals": signals} for signals in signal_lists],
            **extra,
        }
        response = self.client.post("/v1/cases", json=body)
        assert response.status_code == 201, response.text
        return dict(response.json())

    def feed(self, key: str, cursor: str = "", limit: int = 1000) -> dict[str, Any]:
        response = self.client.get(
            "/v1/feed",
            params={"cursor": cursor, "limit": limit},
            headers={"Authorization": f"Bearer {key}"},
        )
        assert response.status_code == 200, response.text
        return dict(response.json())

    def whole_feed(self, key: str, limit: int = 1000) -> list[dict[str, Any]]:
        entries, cursor = [], ""
        while True:
            page = self.feed(key, cursor, limit)
            entries.extend(page["entries"])
            cursor = page["next_cursor"]
            if not page["has_more"]:
                return entries


@contextmanager
def serve_app(app: Any, what: str = "the hub", host: str = "127.0.0.1") -> Iterator[str]:
    """Serve an ASGI app on a free port of `host` (loopback unless a test needs another address)
    from a thread; yields its base URL."""
    config = uvicorn.Config(
        app,
        host=host,
        port=0,
        log_level="warning",
        access_log=False,
        proxy_headers=False,  # as `redress serve` runs it: X-Forwarded-For is the app's to read
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _ in range(2000):  # wait for the listening socket (at most ~20 s)
        if server.started:
            break
        thread.join(0.01)
    assert server.started, f"{what} did not start"
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://{host}:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


def serve(settings: Settings) -> Iterator[RunningHub]:
    """Run a hub app for `settings` on a free loopback port until the generator closes."""
    app = create_app(settings)
    with serve_app(app) as url, httpx.Client(base_url=url, timeout=30) as client:
        yield RunningHub(url, settings, client)
    app.state.hub.engine.dispose()


def hub_settings(database_url: str, **overrides: Any) -> Settings:
    """Settings for tests: generous rate limits and no flood safeguards (every test case comes
    from one loopback address) unless a test asks otherwise."""
    values: dict[str, Any] = {
        "database_url": database_url,
        "secret_key": SECRET,
        "case_creation_rate": "10000/minute",
        "status_rate": "10000/minute",
        "client_pin_failures_per_hour": 1000,
        "flood_signals_per_request": 0,
        "flood_cases_per_source": 0,
        "flood_cases_per_hour": 0,
        "flood_signals_per_hour": 0,
    }
    values.update(overrides)
    return Settings(**values)


@pytest.fixture
def hub(database_url: str) -> Iterator[RunningHub]:
    """A running hub on a fresh database of each kind."""
    yield from serve(hub_settings(database_url))


def pdq(value: str = PDQ_A, quality: int = 100) -> dict[str, Any]:
    return {"type": "pdq", "value": value, "quality": quality}
