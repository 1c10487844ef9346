"""Alembic environment of the agent's chain: runs on the connection or URL Redress hands it,
records its revision in `agent_alembic_version` and looks only at the agent's tables (a hub's
may share the database)."""

from __future__ import annotations

from typing import Any

from alembic import context
from sqlalchemy import Connection, MetaData

from redress.agent.migrations import AGENT
from redress.agent.models import AgentBase
from redress.db import make_engine

config = context.config
target_metadata: MetaData = config.attributes.get("target_metadata", AgentBase.metadata)
VERSION_TABLE = config.get_main_option("version_table") or AGENT.version_table


def _ours(name: str | None, type_: str, _parent: Any) -> bool:
    return type_ != "table" or (name is not None and name in target_metadata.tables)


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        version_table=VERSION_TABLE,
        include_name=_ours,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    """Use the connection passed in `config.attributes`, or open one from the URL."""
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = make_engine(config.get_main_option("sqlalchemy.url") or "")
    with engine.connect() as fresh:
        _run(fresh)
    engine.dispose()


run_migrations_online()
