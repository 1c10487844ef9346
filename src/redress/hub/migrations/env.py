"""Alembic environment of the hub's chain: runs on the connection or URL Redress hands it and
looks only at the hub's tables (an agent's may share the database)."""

from __future__ import annotations

from typing import Any

from alembic import context
from sqlalchemy import Connection

from redress.db import Base, make_engine
from redress.hub import models  # noqa: F401  (registers the tables on Base.metadata)

config = context.config
target_metadata = Base.metadata


def _ours(name: str | None, type_: str, _parent: Any) -> bool:
    return type_ != "table" or (name is not None and name in target_metadata.tables)


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
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
