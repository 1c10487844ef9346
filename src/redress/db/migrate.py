"""Schema migrations (Alembic), run by `redress db upgrade`, `make run` and the tests."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

MIGRATIONS = Path(__file__).with_name("migrations")


def alembic_config(url: str) -> Config:
    """An Alembic configuration for the database at `url`, using the packaged migrations."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the database to `revision` (the latest by default)."""
    config = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def current_and_head(engine: Engine) -> tuple[str | None, str | None]:
    """The database's schema revision and the latest one this code knows."""
    config = alembic_config(engine.url.render_as_string(hide_password=False))
    head = ScriptDirectory.from_config(config).get_current_head()
    with engine.connect() as connection:
        current = MigrationContext.configure(connection).get_current_revision()
    return current, head


def schema_problem(engine: Engine) -> str | None:
    """Why the database cannot be used by this version (one sentence), or None if it is at the
    latest schema. Raises whatever the driver raises if the database cannot be reached."""
    current, head = current_and_head(engine)
    if current == head:
        return None
    config = alembic_config(engine.url.render_as_string(hide_password=False))
    known = {script.revision for script in ScriptDirectory.from_config(config).walk_revisions()}
    if current is not None and current not in known:
        return (
            f"the database is at schema {current}, which this version of Redress does not know "
            "(it was migrated by a newer version): run that version, or upgrade Redress"
        )
    return (
        f"the database is at schema {current or 'none (never migrated)'}, this version needs "
        f"{head}: run 'redress db upgrade' first"
    )
