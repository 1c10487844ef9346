"""Schema migrations (Alembic), run by `redress db upgrade`, `redress agent db upgrade`, `make
run` and the tests.

Each deployment has its own chain of migrations (`Chain`: where its scripts are, which table
records its revision, the metadata of its tables), so a hub and an agent can share one database
without their histories mixing."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, MetaData


@dataclass(frozen=True)
class Chain:
    """One chain of migrations."""

    script_location: Path
    version_table: str = "alembic_version"
    upgrade_command: str = "redress db upgrade"  # what to tell an operator to run
    metadata: MetaData | None = field(default=None, compare=False)  # for autogenerate


def alembic_config(url: str, chain: Chain) -> Config:
    """An Alembic configuration for the database at `url`, using `chain`'s packaged scripts."""
    config = Config()
    config.set_main_option("script_location", str(chain.script_location))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    config.set_main_option("version_table", chain.version_table)
    if chain.metadata is not None:
        config.attributes["target_metadata"] = chain.metadata
    return config


def upgrade(engine: Engine, chain: Chain, revision: str = "head") -> None:
    """Bring the database to `revision` of `chain` (the latest by default)."""
    config = alembic_config(engine.url.render_as_string(hide_password=False), chain)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def current_and_head(engine: Engine, chain: Chain) -> tuple[str | None, str | None]:
    """The database's schema revision in `chain` and the latest one this code knows."""
    config = alembic_config(engine.url.render_as_string(hide_password=False), chain)
    head = ScriptDirectory.from_config(config).get_current_head()
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"version_table": chain.version_table}
        )
        current = context.get_current_revision()
    return current, head


def schema_problem(engine: Engine, chain: Chain) -> str | None:
    """Why the database cannot be used by this version (one sentence), or None if it is at the
    latest schema of `chain`. Raises whatever the driver raises if the database cannot be
    reached."""
    current, head = current_and_head(engine, chain)
    if current == head:
        return None
    config = alembic_config(engine.url.render_as_string(hide_password=False), chain)
    known = {script.revision for script in ScriptDirectory.from_config(config).walk_revisions()}
    if current is not None and current not in known:
        return (
            f"the database is at schema {current}, which this version of Redress does not know "
            "(it was migrated by a newer version): run that version, or upgrade Redress"
        )
    return (
        f"the database is at schema {current or 'none (never migrated)'}, this version needs "
        f"{head}: run '{chain.upgrade_command}' first"
    )


def run_environment(default_metadata: MetaData, default_version_table: str) -> None:
    """What a chain's Alembic `env.py` does: migrate the connection Redress hands it (or open one
    from the URL), recording the revision in the chain's version table and looking only at the
    chain's own tables (another chain's may share the database)."""
    from alembic import context

    config = context.config
    metadata: MetaData = config.attributes.get("target_metadata", default_metadata)
    version_table = config.get_main_option("version_table") or default_version_table

    def ours(name: str | None, type_: str, _parent: object) -> bool:
        return type_ != "table" or (name is not None and name in metadata.tables)

    def run(connection: Connection) -> None:
        context.configure(
            connection=connection,
            target_metadata=metadata,
            version_table=version_table,
            include_name=ours,
            render_as_batch=connection.dialect.name == "sqlite",
        )
        with context.begin_transaction():
            context.run_migrations()

    connection = config.attributes.get("connection")
    if connection is not None:
        run(connection)
        return
    from redress.db import make_engine

    engine = make_engine(config.get_main_option("sqlalchemy.url") or "")
    with engine.connect() as fresh:
        run(fresh)
    engine.dispose()
