"""`redress agent`: run a platform agent against one hub (flags) or several (a TOML file);
`redress agent db upgrade`: create or migrate its database."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

err = Console(stderr=True, highlight=False, soft_wrap=True)
agent_db_app = typer.Typer(help="The agent's database.", no_args_is_help=True)


@agent_db_app.command("upgrade")
def agent_db_upgrade() -> None:
    """Create or migrate the database named by REDRESS_AGENT_DATABASE_URL to the latest schema
    (its own version table: it may share a database with a hub).

    Example: redress agent db upgrade
    """
    from redress.agent.config import AgentSettings
    from redress.agent.migrations import AGENT
    from redress.cli.database import upgrade_database

    upgrade_database(AgentSettings().database_url, AGENT, ready="Agent database ready")


def _require_migrated(url: str) -> None:
    """Exit with one line unless the agent's database is reachable and at the latest schema."""
    from redress.agent.migrations import AGENT
    from redress.cli.database import migrated_engine

    with migrated_engine(url, AGENT):
        return


def agent_command(
    ctx: typer.Context,
    hub_url: Annotated[
        str | None, typer.Option(help="The hub to follow (or list hubs with --config).")
    ] = None,
    hub_key: Annotated[
        str | None,
        typer.Option(
            help="The hub API key (rk_...). Prefer the environment variable: a key given on "
            "the command line is visible to other users (ps).",
            show_envvar=True,
            envvar="REDRESS_AGENT_HUB_KEY",
        ),
    ] = None,
    hub_name: Annotated[str, typer.Option(help="A name for that hub.")] = "hub",
    action: Annotated[
        str, typer.Option(help="What a match means: allow, review or block.")
    ] = "review",
    pdq_threshold: Annotated[
        int, typer.Option(min=0, max=64, help="PDQ distance that matches.")
    ] = 31,
    config: Annotated[
        Path | None,
        typer.Option(
            help="TOML file listing several hubs (see the README).",
            envvar="REDRESS_AGENT_CONFIG_FILE",
        ),
    ] = None,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port.")] = 8100,
) -> None:
    """Run a platform agent: follow hubs' feeds and answer POST /v1/check. Run 'redress agent
    db upgrade' first.

    Example: REDRESS_AGENT_HUB_KEY=rk_... redress agent --hub-url http://127.0.0.1:8000
    """
    if ctx.invoked_subcommand is not None:  # `redress agent quarantine ...`
        return
    import uvicorn

    from redress.agent.app import create_agent_app
    from redress.agent.config import AgentSettings, ConfigError, hubs_from_file, make_hub
    from redress.agent.runtime import Agent

    source = ctx.get_parameter_source("hub_key")
    if hub_key is not None and source is not None and source.name == "COMMANDLINE":
        err.print(
            "warning: --hub-key on the command line is visible to other users (ps); "
            "set REDRESS_AGENT_HUB_KEY or use key_env in a --config file instead.",
            markup=False,
        )
    try:
        if config is not None:
            hubs = hubs_from_file(config)
        elif hub_url is not None:
            hubs = [
                make_hub(
                    "--hub-url/--hub-key",
                    name=hub_name,
                    url=hub_url,
                    key=hub_key,
                    action=action,
                    pdq_threshold=pdq_threshold,
                    enabled=True,
                )
            ]
        else:
            err.print(
                "error: give --hub-url with the key in REDRESS_AGENT_HUB_KEY (or --hub-key), "
                "or --config with a list of hubs."
            )
            raise typer.Exit(2)
    except ConfigError as exc:
        err.print(f"error: {exc}", markup=False)
        raise typer.Exit(2) from None
    from redress.web.logging import configure_logging

    settings = AgentSettings()
    _require_migrated(settings.database_url)
    configure_logging(settings.log_level)
    agent = Agent(settings, hubs)
    names = ", ".join(f"{h.name} ({h.url})" for h in hubs)
    err.print(f"Redress agent on http://{host}:{port}, following {names}", markup=False)
    uvicorn.run(
        create_agent_app(agent),
        host=host,
        port=port,
        proxy_headers=False,  # no client-written X-Forwarded-For in the sign-in limit
        access_log=False,
        log_config=None,
    )
