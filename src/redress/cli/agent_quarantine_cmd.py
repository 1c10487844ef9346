"""`redress agent quarantine list|release`: the signals a running agent quarantined for matching
too many distinct uploads. Talks to the agent's API with its token (not to its database), so a
release takes effect in the running agent at once."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

err = Console(stderr=True, highlight=False)
quarantine_app = typer.Typer(
    help="Signals this agent quarantined for matching too many distinct uploads.\n\nExample: "
    "redress agent quarantine list",
    no_args_is_help=True,
)

Url = Annotated[
    str,
    typer.Option(help="The agent's address.", envvar="REDRESS_AGENT_URL"),
]
Token = Annotated[
    str | None,
    typer.Option(
        help="The agent token; or REDRESS_AGENT_TOKEN, else the token file in "
        "REDRESS_AGENT_STATE_DIR.",
        envvar="REDRESS_AGENT_TOKEN",
    ),
]


def _token(token: str | None) -> str:
    if token:
        return token
    path = Path(os.environ.get("REDRESS_AGENT_STATE_DIR", "./redress-agent-state")) / "agent-token"
    try:
        return path.read_text(encoding="utf-8").strip()
    except OSError:
        err.print("error: give the agent token with --token or REDRESS_AGENT_TOKEN.")
        raise typer.Exit(2) from None


def _call(method: str, url: str, token: str | None, path: str, **kwargs: Any) -> Any:
    import httpx

    headers = {"Authorization": f"Bearer {_token(token)}"}
    try:
        response = httpx.request(
            method, url.rstrip("/") + path, headers=headers, timeout=30, **kwargs
        )
    except httpx.HTTPError as exc:
        err.print(f"error: cannot reach the agent at {url}: {exc}", markup=False)
        raise typer.Exit(1) from None
    if response.status_code != 200:
        try:
            body = response.json()
            reason = f"{body['code']}: {body['detail']}"
        except (ValueError, KeyError, TypeError):
            reason = f"HTTP {response.status_code}"
        err.print(f"error ({reason})", markup=False)
        raise typer.Exit(1)
    return response.json()


@quarantine_app.command("list")
def quarantine_list(
    url: Url = "http://127.0.0.1:8100",
    token: Token = None,
    released: Annotated[bool, typer.Option(help="Include released quarantines.")] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the API's JSON (whole values) instead.")
    ] = False,
) -> None:
    """Quarantined signals, newest first: hub, signal, the count that tripped it, when, and
    whether the hub has the report.

    Example: redress agent quarantine list --url http://127.0.0.1:8100
    """
    body = _call("GET", url, token, "/v1/quarantine", params={"released": str(released).lower()})
    if as_json:
        typer.echo(json.dumps(body, indent=2))
        return
    table = Table("id", "hub", "type", "value", "uploads/window", "quarantined at", "reported")
    if released:
        table.add_column("released")
    for entry in body["quarantined"]:
        row = [
            str(entry["id"]),
            entry["hub"],
            entry["signal"]["type"],
            entry["signal"]["value"][:64],
            f"{entry['distinct_uploads']}/{entry['window_seconds']:g}s",
            entry["quarantined_at"],
            entry["reported_at"] or "pending",
        ]
        if released:
            row.append(entry["released_at"] or "")
        table.add_row(*row)
    Console().print(table)


@quarantine_app.command("release")
def quarantine_release(
    entry_id: Annotated[int, typer.Argument(metavar="ID", help="From `quarantine list`.")],
    url: Url = "http://127.0.0.1:8100",
    token: Token = None,
    operator: Annotated[str, typer.Option(help="Who releases (recorded).")] = "operator",
) -> None:
    """Act on the signal's matches again; its count of distinct uploads starts from zero.

    Example: redress agent quarantine release 3
    """
    entry = _call(
        "POST", url, token, f"/v1/quarantine/{entry_id}/release", json={"operator": operator}
    )
    err.print(f"Released quarantine {entry['id']} ({entry['hub']}, {entry['signal']['type']}).")
