"""Running and administering a hub: `redress serve`, `redress db`, `redress participant`,
`redress dispute`, `redress hold`. Administration works on the database directly (run it on the
hub's host)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from redress.cli.database import migrated_engine, upgrade_database, where
from redress.config import get_settings
from redress.core.clock import SystemClock
from redress.db import make_session_factory, unit_of_work
from redress.hashing.errors import InvalidSignalError
from redress.hashing.signal_types import normalise_signal
from redress.hub import models  # noqa: F401  (every table known: their foreign keys resolve)
from redress.hub.bank import holds
from redress.hub.bank.service import find_signal
from redress.hub.disputes.service import quarantined, reported_overmatching, restore_signal
from redress.hub.errors import HubError
from redress.hub.migrations import HUB
from redress.hub.participants import service as participants
from redress.hub.participants.schemas import DEFAULT_SCOPES, parse_scopes

err = Console(stderr=True, highlight=False, soft_wrap=True)

db_app = typer.Typer(help="The hub's database.", no_args_is_help=True)
participant_app = typer.Typer(
    help="Platforms that read the feed and send feedback.\n\nExample: redress participant add "
    "ExamplePlatform",
    no_args_is_help=True,
)
dispute_app = typer.Typer(
    help="Signals quarantined because platforms found them not to be NCII, or reported by "
    "platforms' agents as matching too many distinct uploads.\n\nExample: redress dispute list",
    no_args_is_help=True,
)

#: Administration runs on the hub's host, at the system's time.
CLOCK = SystemClock()

hold_app = typer.Typer(
    help="Case creations held back from the feed by the flood safeguards, for staff review.\n\n"
    "Example: redress hold list",
    no_args_is_help=True,
)


@contextmanager
def _migrated_engine() -> Iterator[Engine]:
    """An engine on REDRESS_DATABASE_URL, once it is known to be reachable and at the latest
    schema; otherwise one line saying what to do, and exit status 1."""
    with migrated_engine(get_settings().database_url, HUB) as engine:
        yield engine


def _require_migrated() -> None:
    """Exit with one line unless the database is reachable and at the latest schema."""
    with _migrated_engine():
        return


@contextmanager
def _session() -> Iterator[Session]:
    with _migrated_engine() as engine:
        try:
            with unit_of_work(make_session_factory(engine)) as session:
                yield session
        except HubError as exc:
            err.print(f"error ({exc.code}): {exc.detail}")
            raise typer.Exit(1) from None


def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port.")] = 8000,
    workers: Annotated[int, typer.Option(min=1, help="Worker processes.")] = 1,
) -> None:
    """Start the hub (API, OpenAPI docs at /docs). Run 'redress db upgrade' first.

    Example: redress serve --host 0.0.0.0 --port 8000
    """
    import uvicorn

    from redress.portal.helplines import HelplinesError, load_helplines

    settings = get_settings()
    _require_migrated()
    if settings.rate_limit_storage:
        _check_redis(settings.rate_limit_storage)
    try:
        load_helplines(settings.helplines_file)
    except HelplinesError as exc:
        err.print(f"error: {exc}. Fix the file or unset REDRESS_HELPLINES_FILE.")
        raise typer.Exit(1) from None
    err.print(f"Redress hub on http://{host}:{port} (database: {where(settings.database_url)})")
    uvicorn.run(
        "redress.hub.app:create_app_from_env",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        proxy_headers=False,  # the hub reads X-Forwarded-For itself (REDRESS_TRUSTED_PROXIES)
        access_log=False,
        log_config=None,
    )


def _check_redis(url: str) -> None:
    """Stop with one line if the rate-limit Redis is missing or does not answer."""
    from redress.hub.context import redis_client

    try:
        redis_client(url).ping()
    except Exception as exc:
        err.print(
            f"error: cannot use the rate-limit storage {where(url)} "
            f"(REDRESS_RATE_LIMIT_STORAGE): {exc}"
        )
        raise typer.Exit(1) from None


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Create or migrate the database named by REDRESS_DATABASE_URL to the latest schema.

    Example: redress db upgrade
    """
    upgrade_database(get_settings().database_url, HUB, ready="Database ready")


@participant_app.command("add")
def participant_add(
    name: Annotated[str, typer.Argument(help="The platform's name.")],
    scopes: Annotated[
        str,
        typer.Option(help="Comma-separated: feed:read, feedback:write, hashes:submit."),
    ] = ",".join(s.value for s in DEFAULT_SCOPES),
) -> None:
    """Register a platform; prints its API key once, on the last line.

    Example: redress participant add ExamplePlatform --scopes feed:read,feedback:write
    """
    try:
        chosen = parse_scopes(scopes)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--scopes") from None
    with _session() as session:
        key = participants.add_participant(session, name=name, scopes=chosen, clock=CLOCK)
    err.print(f"Added {name!r} with scopes {', '.join(chosen)}. Its API key (shown only now):")
    typer.echo(key)


@participant_app.command("list")
def participant_list() -> None:
    """Platforms, their status and key prefixes (never the keys).

    Example: redress participant list
    """
    table = Table("name", "status", "keys (prefix: scopes)", "since")
    with _session() as session:
        for participant, keys in participants.list_participants(session):
            shown = [f"{k.prefix}: {k.scopes}{' (revoked)' if k.revoked_at else ''}" for k in keys]
            table.add_row(
                participant.name,
                participant.status,
                "\n".join(shown),
                participant.created_at.date().isoformat(),
            )
    Console().print(table)


@participant_app.command("revoke")
def participant_revoke(name: Annotated[str, typer.Argument(help="The platform's name.")]) -> None:
    """Revoke a platform and all its keys.

    Example: redress participant revoke ExamplePlatform
    """
    with _session() as session:
        participants.revoke_participant(session, name=name, clock=CLOCK)
    err.print(f"Revoked {name!r}.")


@participant_app.command("rotate")
def participant_rotate(name: Annotated[str, typer.Argument(help="The platform's name.")]) -> None:
    """Replace a platform's key: the old one stops working; the new one is printed once.

    Example: redress participant rotate ExamplePlatform
    """
    with _session() as session:
        key = participants.rotate_key(session, name=name, clock=CLOCK)
    err.print(f"New API key for {name!r} (the old one no longer works):")
    typer.echo(key)


@dispute_app.command("list")
def dispute_list() -> None:
    """Signals awaiting review: quarantined, or reported as over-matching by a platform.

    "over-matching" shows how many platforms reported the signal and the largest count of
    distinct uploads one of them saw it match. Example: redress dispute list
    """
    table = Table("id", "type", "value", "quarantined at", "over-matching")
    with _session() as session:
        reports = reported_overmatching(session)
        for signal in quarantined(session):
            at = signal.quarantined_at.isoformat() if signal.quarantined_at else ""
            platforms, largest = reports.get(signal.id, (0, 0))
            overmatching = f"{platforms} platform(s), up to {largest} uploads" if platforms else ""
            table.add_row(str(signal.id), signal.type, signal.value[:64], at, overmatching)
    Console().print(table)


@dispute_app.command("restore")
def dispute_restore(
    signal_type: Annotated[str, typer.Argument(metavar="TYPE", help="pdq, md5, ...")],
    value: Annotated[str, typer.Argument(help="The hash value.")],
) -> None:
    """Put a reviewed, confirmed signal back on the feed (it will not be disputed again); for a
    signal only reported as over-matching, confirm it (reports no longer quarantine it).

    Example: redress dispute restore pdq 9a3f...
    """
    try:
        kind, normal = normalise_signal(signal_type, value)
    except InvalidSignalError as exc:
        raise typer.BadParameter(exc.message) from None
    with _session() as session:
        signal = find_signal(session, kind.name, normal)
        if signal is None or signal.id not in {s.id for s in quarantined(session)}:
            err.print("No quarantined or reported signal with that value.")
            raise typer.Exit(1)
        restore_signal(session, signal, actor="operator", clock=CLOCK)
    err.print("Restored: the signal is back on the feed.")


@hold_app.command("list")
def hold_list(
    every: Annotated[bool, typer.Option("--all", help="Also released and rejected holds.")] = False,
) -> None:
    """Holds waiting for review (no case numbers: release or reject a hold as a whole).

    Example: redress hold list
    """
    columns = ["hold", "reason", "when", "cases", "signals"] + (["status"] if every else [])
    table = Table(*columns)
    with _session() as session:
        for held in holds.list_holds(session, every=every):
            row = [
                str(held.id),
                held.reason,
                held.created_at.strftime("%Y-%m-%d %H:%M"),
                str(held.cases),
                str(held.signals),
            ]
            table.add_row(*row, *([held.status] if every else []))
    Console().print(table)


@hold_app.command("release")
def hold_release(hold_id: Annotated[int, typer.Argument(metavar="ID", help="The hold.")]) -> None:
    """The held items are genuine: put their signals on the feed now.

    Example: redress hold release 3
    """
    with _session() as session:
        held = holds.release(session, hold_id, actor="operator", clock=CLOCK)
        signals = held.signals
    err.print(f"Released hold {hold_id}: {signals} signal(s) are on the feed now.")


@hold_app.command("reject")
def hold_reject(hold_id: Annotated[int, typer.Argument(metavar="ID", help="The hold.")]) -> None:
    """The held items are abuse: withdraw them (their signals never reached a platform).

    Example: redress hold reject 3
    """
    with _session() as session:
        holds.reject(session, hold_id, actor="operator", clock=CLOCK)
    err.print(f"Rejected hold {hold_id}: its items are withdrawn and were never shared.")
