"""Hub administration commands run as a user would (real processes), on SQLite and PostgreSQL:
on a database that is not migrated, or cannot be reached, each says in one line what to do and
exits 1 instead of printing a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from redress.db import make_engine
from tests.hub.conftest import _fresh_postgres_database, _migrate

# Every command that opens the hub's database (serve checks before it listens).
DATABASE_COMMANDS = [
    ["participant", "add", "ExamplePlatform"],
    ["participant", "list"],
    ["participant", "revoke", "ExamplePlatform"],
    ["participant", "rotate", "ExamplePlatform"],
    ["dispute", "list"],
    ["dispute", "restore", "pdq", "f" * 64],
    ["serve", "--port", "1"],
]


def redress(url: str, *args: str, tmp: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "REDRESS_DATABASE_URL": url, "REDRESS_LOG_DIR": str(tmp / "logs")}
    env.pop("REDRESS_DEBUG", None)
    return subprocess.run(
        [sys.executable, "-m", "redress", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


@pytest.fixture(params=["sqlite", "postgresql"])
def blank_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database of each kind that nobody has migrated."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'hub.db'}"
        return
    admin = request.getfixturevalue("postgres_server")
    yield from _fresh_postgres_database(admin)


def test_every_database_command_asks_for_db_upgrade_on_a_blank_database(
    blank_database_url: str, tmp_path: Path
) -> None:
    for command in DATABASE_COMMANDS:
        run = redress(blank_database_url, *command, tmp=tmp_path)
        assert run.returncode == 1, (command, run.stderr)
        lines = run.stderr.strip().splitlines()
        assert len(lines) == 1, (command, run.stderr)
        assert "never migrated" in lines[0] and "run 'redress db upgrade' first" in lines[0]
        assert "Traceback" not in run.stderr and run.stdout == ""
    assert not (tmp_path / "logs").exists()  # nothing unexpected happened

    upgraded = redress(blank_database_url, "db", "upgrade", tmp=tmp_path)
    assert upgraded.returncode == 0, upgraded.stderr
    added = redress(blank_database_url, "participant", "add", "ExamplePlatform", tmp=tmp_path)
    assert added.returncode == 0, added.stderr
    assert added.stdout.strip().startswith("rk_")
    listed = redress(blank_database_url, "participant", "list", tmp=tmp_path)
    assert listed.returncode == 0 and "ExamplePlatform" in listed.stdout


def test_a_database_from_a_newer_version_is_named_as_such(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'hub.db'}"
    _migrate(url)
    engine = make_engine(url)
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    engine.dispose()
    run = redress(url, "participant", "list", tmp=tmp_path)
    assert run.returncode == 1
    assert len(run.stderr.strip().splitlines()) == 1
    assert "at schema 9999, which this version of Redress does not know" in run.stderr


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("postgresql+psycopg://nobody:s3cretpw@127.0.0.1:1/none", "cannot reach the database"),
        ("nosuchdialect://x", "cannot use the database nosuchdialect://x"),
    ],
)
def test_an_unreachable_database_is_one_line(url: str, expected: str, tmp_path: Path) -> None:
    for command in (["participant", "list"], ["serve", "--port", "1"]):
        run = redress(url, *command, tmp=tmp_path)
        assert run.returncode == 1
        assert len(run.stderr.strip().splitlines()) == 1, run.stderr
        assert expected in run.stderr
        assert "s3cretpw" not in run.stderr  # the password in the URL is never printed
    upgrade = redress(url, "db", "upgrade", tmp=tmp_path)
    assert upgrade.returncode == 1
    assert len(upgrade.stderr.strip().splitlines()) == 1, upgrade.stderr
