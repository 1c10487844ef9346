"""The `redress` command: every sub-command, the global flags, and what an unexpected error does."""

from __future__ import annotations

import os
import sys
from typing import Annotated

import typer
from rich.console import Console

from redress import __version__
from redress.cli.agent_cmd import agent_command, agent_db_app
from redress.cli.agent_quarantine_cmd import quarantine_app
from redress.cli.crash import DEBUG_ENV, command_path, report_crash, set_debug
from redress.cli.hash_cmd import hash_command
from redress.cli.hub_cmds import db_app, dispute_app, hold_app, participant_app, serve
from redress.cli.match_cmd import match_command

app = typer.Typer(
    name="redress",
    help=(
        "Redress: hash images and videos on your own device, share only the hashes, and find "
        "copies of non-consensual intimate images.\n\n"
        "Example: redress hash photos/ > hashes.jsonl"
    ),
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode="rich",
    # An unexpected error is reported by `run` in one line; --debug shows a plain traceback.
    pretty_exceptions_enable=False,
)
app.command(
    "hash",
    help=(
        "Hash image and video files, and folders of them (recursive).\n\n"
        "Prints one JSON object per file and signal (jsonl), or csv/text. Exit status: 0 every "
        "file hashed, 1 some failed (each failure is a record with an error), 2 usage error.\n\n"
        "Example: redress hash --dihedral photo.jpg clips/"
    ),
    no_args_is_help=True,
)(hash_command)
app.command(
    "match",
    help=(
        "Match files or hash values against a hash list.\n\n"
        "HASHLIST holds TYPE VALUE lines, bare hashes, or redress hash jsonl/csv output. Each "
        "QUERY is a media file, a folder, or a literal hash (64 hex = PDQ, or TYPE:VALUE). "
        "Prints one JSON object per match.\n\n"
        "Example: redress match --against hashes.jsonl suspect.jpg"
    ),
    no_args_is_help=True,
)(match_command)

app.command("serve")(serve)
agent_app = typer.Typer()
agent_app.callback(invoke_without_command=True)(agent_command)
agent_app.add_typer(quarantine_app, name="quarantine")
agent_app.add_typer(agent_db_app, name="db")
app.add_typer(agent_app, name="agent")
app.add_typer(db_app, name="db")
app.add_typer(participant_app, name="participant")
app.add_typer(dispute_app, name="dispute")
app.add_typer(hold_app, name="hold")


def _version(value: bool) -> None:
    if value:
        typer.echo(f"redress {__version__}")
        raise typer.Exit


@app.callback()
def main(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version."),
    ] = False,
    debug: Annotated[
        bool,
        typer.Option(
            "--debug",
            envvar=DEBUG_ENV,
            help="Show the full traceback of an unexpected error (or REDRESS_DEBUG=1).",
        ),
    ] = False,
) -> None:
    """Redress command line."""
    set_debug(debug)


def run() -> None:
    """Console-script entry point."""
    # Hash values, not images, are what this tool prints; keep ffmpeg's own chatter quiet.
    os.environ.setdefault("AV_LOG_FORCE_NOCOLOR", "1")
    try:
        app()
    except KeyboardInterrupt:
        Console(stderr=True).print("Interrupted.")
        sys.exit(130)
    except Exception as exc:
        # Usage errors (exit 2) and expected failures never get here: click and the commands
        # handle them. Anything else is a bug or an environment problem: one line and a log.
        sys.exit(report_crash(exc, command_path(typer.main.get_command(app), sys.argv[1:])))
