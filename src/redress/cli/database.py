"""Opening, checking and migrating a database from a command: every failure is one line that
says which database (without its credentials) and what to do, and exit status 1."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import typer
from rich.console import Console
from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError

from redress.db import make_engine
from redress.db.migrate import Chain, schema_problem, upgrade

err = Console(stderr=True, highlight=False, soft_wrap=True)


def where(url: str) -> str:
    """The database URL without its credentials."""
    return url.split("@")[-1] if "@" in url else url


def reason(exc: Exception) -> str:
    """The first line of what the driver said (SQLAlchemy's wrapper adds the SQL and a link)."""
    cause = exc.orig if isinstance(exc, DBAPIError) else exc
    text = str(cause).strip()
    return text.splitlines()[0] if text else type(cause).__name__


def open_engine(url: str) -> Engine:
    """An engine on `url`; a malformed URL or a missing driver is one line and exit 1."""
    try:
        return make_engine(url)
    except Exception as exc:
        err.print(f"error: cannot use the database {where(url)}: {exc}", markup=False)
        raise typer.Exit(1) from None


@contextmanager
def migrated_engine(url: str, chain: Chain) -> Iterator[Engine]:
    """An engine on `url` once the database is known to be reachable and at the latest schema
    of `chain`; otherwise one line saying what to do (the chain's upgrade command) and exit 1."""
    engine = open_engine(url)
    try:
        try:
            problem = schema_problem(engine, chain)
        except Exception as exc:
            err.print(f"error: cannot reach the database {where(url)}: {reason(exc)}", markup=False)
            raise typer.Exit(1) from None
        if problem is not None:
            err.print(f"error: {where(url)}: {problem}.", markup=False)
            raise typer.Exit(1)
        yield engine
    finally:
        engine.dispose()


def upgrade_database(url: str, chain: Chain, *, ready: str) -> None:
    """Create or migrate the database at `url` to the latest schema of `chain`, then print
    `ready` and where; a failure is one line and exit 1."""
    engine = open_engine(url)
    try:
        upgrade(engine, chain)
    except Exception as exc:
        err.print(f"error: cannot migrate the database {where(url)}: {reason(exc)}", markup=False)
        raise typer.Exit(1) from None
    finally:
        engine.dispose()
    err.print(f"{ready}: {where(url)}", markup=False)
