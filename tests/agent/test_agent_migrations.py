"""The agent's own migrations: its chain and version table beside a hub's in one database,
adopting a database an earlier agent created for itself, `redress agent` refusing an unmigrated
database with one line, and the moderator's sign-in and sign-out written as events."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from alembic import command
from typer.testing import CliRunner

from redress.agent.app import create_agent_app
from redress.agent.config import AgentSettings
from redress.agent.migrations import AGENT
from redress.agent.models import AgentBase
from redress.agent.runtime import Agent
from redress.cli.main import app
from redress.db import make_engine
from redress.db.migrate import alembic_config, current_and_head, schema_problem, upgrade
from redress.hub.migrations import HUB
from tests.agent.conftest import TOKEN, migrate_agent
from tests.hub.conftest import database_url, serve_app  # noqa: F401

AGENT_TABLES = {
    "agent_events",
    "agent_hub_state",
    "agent_negative_bank",
    "agent_outbox",
    "agent_quarantine",
    "agent_quarantine_sightings",
    "agent_rate_limit_counters",
    "agent_reviews",
}


def test_a_hub_and_an_agent_share_one_database(database_url: str) -> None:  # noqa: F811
    engine = make_engine(database_url)  # the hub's chain is already at its head
    try:
        hub_tables = set(sa.inspect(engine).get_table_names())
        assert schema_problem(engine, AGENT) is not None
        upgrade(engine, chain=AGENT)
        assert schema_problem(engine, AGENT) is None and schema_problem(engine, HUB) is None
        assert current_and_head(engine, AGENT) == ("0002", "0002")
        tables = set(sa.inspect(engine).get_table_names())
        assert tables == hub_tables | AGENT_TABLES | {"agent_alembic_version"}
        # Statuses the agent does not know are refused by the database itself.
        for statement in (
            "insert into agent_reviews (hub, signal_type, signal_value, item, status, created_at)"
            " values ('h', 'pdq', 'v', 'i', 'maybe', :at)",
            "insert into agent_outbox (hub, signal_type, signal_value, feedback, attempts,"
            " next_attempt_at, created_at) values ('h', 'pdq', 'v', 'Perhaps', 0, :at, :at)",
        ):
            with pytest.raises(sa.exc.IntegrityError), engine.begin() as connection:
                connection.execute(sa.text(statement), {"at": datetime(2026, 1, 1, tzinfo=UTC)})
        # The agent's chain goes back without touching the hub's tables or revision.
        config = alembic_config(engine.url.render_as_string(hide_password=False), AGENT)
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.downgrade(config, "base")
        assert set(sa.inspect(engine).get_table_names()) == hub_tables | {"agent_alembic_version"}
        assert schema_problem(engine, HUB) is None
        upgrade(engine, chain=AGENT)
        assert schema_problem(engine, AGENT) is None
    finally:
        engine.dispose()


def test_a_database_an_earlier_agent_created_itself_is_adopted(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'agent.db'}")
    earlier = [
        table
        for name, table in AgentBase.metadata.tables.items()
        if name not in ("agent_events", "agent_rate_limit_counters")
    ]
    AgentBase.metadata.create_all(engine, tables=earlier)  # what the agent used to do
    with engine.begin() as connection:
        connection.execute(
            sa.text(
                "insert into agent_negative_bank (signal_type, signal_value, created_at) "
                "values ('md5', :value, '2026-01-01 00:00:00')"
            ),
            {"value": "ab" * 16},
        )
    upgrade(engine, chain=AGENT)
    assert schema_problem(engine, AGENT) is None
    assert set(sa.inspect(engine).get_table_names()) >= AGENT_TABLES
    with engine.connect() as connection:
        kept = connection.execute(sa.text("select signal_value from agent_negative_bank"))
        assert kept.scalars().all() == ["ab" * 16]
    engine.dispose()


def test_agent_refuses_an_unmigrated_database_with_the_command_to_run(tmp_path: Path) -> None:
    runner = CliRunner()
    env = {
        "REDRESS_AGENT_DATABASE_URL": f"sqlite:///{tmp_path / 'agent.db'}",
        "REDRESS_AGENT_STATE_DIR": str(tmp_path / "state"),
        "REDRESS_AGENT_HUB_KEY": "rk_test_key",
    }
    refused = runner.invoke(app, ["agent", "--hub-url", "http://127.0.0.1:9"], env=env)
    assert refused.exit_code == 1
    lines = refused.output.strip().splitlines()
    assert len(lines) == 1 and "run 'redress agent db upgrade' first" in lines[0]
    upgraded = runner.invoke(app, ["agent", "db", "upgrade"], env=env)
    assert upgraded.exit_code == 0 and "Agent database ready" in upgraded.output
    engine = make_engine(env["REDRESS_AGENT_DATABASE_URL"])
    assert schema_problem(engine, AGENT) is None
    engine.dispose()
    broken = runner.invoke(
        app, ["agent", "db", "upgrade"], env={**env, "REDRESS_AGENT_DATABASE_URL": "nosuch://x"}
    )
    assert broken.exit_code == 1 and "Traceback" not in broken.output
    assert "cannot use the database" in broken.output


def test_moderator_sign_in_and_out_are_recorded(tmp_path: Path) -> None:
    url = migrate_agent(f"sqlite:///{tmp_path / 'agent.db'}")
    agent = Agent(AgentSettings(database_url=url, state_dir=str(tmp_path), token=TOKEN), [])
    with (
        serve_app(create_agent_app(agent, start=False), "the agent") as base,
        httpx.Client(base_url=base, timeout=30) as page,
    ):
        page.post("/review/signin", data={"token": TOKEN, "name": "Sam"})
        text = page.get("/review").text
        csrf = text.split('name="csrf" value="')[1].split('"')[0]
        assert page.post("/review/signout", data={"csrf": csrf}).status_code == 200
        wrong = page.post("/review/signin", data={"token": "nope", "name": "Sam"})
        assert wrong.status_code == 401
    engine = make_engine(url)
    with engine.connect() as connection:
        rows = connection.execute(sa.text("select kind, subject, details from agent_events"))
        events = [(kind, subject, json.loads(details)) for kind, subject, details in rows]
    engine.dispose()
    agent.engine.dispose()
    who = "moderator:" + hashlib.sha256(b"Sam").hexdigest()[:16]
    assert events == [("moderator.signed_in", who, {}), ("moderator.signed_out", who, {})]
