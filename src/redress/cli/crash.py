"""What the command does with an exception nobody expected: one line on stderr saying what failed
and where the full traceback was written, and exit status 1. The traceback itself is shown only
with `redress --debug` or `REDRESS_DEBUG=1` (a user should see a sentence, a developer the
stack)."""

from __future__ import annotations

import os
import sys
import tempfile
import traceback
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from redress import __version__

DEBUG_ENV = "REDRESS_DEBUG"
LOG_DIR_ENV = "REDRESS_LOG_DIR"
_state = {"debug": False}


def set_debug(on: bool) -> None:
    """Remember the global `--debug` flag (set by the command's callback)."""
    _state["debug"] = on


def debug_enabled() -> bool:
    """Whether tracebacks are shown: `--debug`, or REDRESS_DEBUG set to a true value."""
    return _state["debug"] or os.environ.get(DEBUG_ENV, "").strip().lower() in {
        "1",
        "true",
        "yes",
        "on",
    }


def log_directory() -> Path:
    """Where crash logs go: REDRESS_LOG_DIR, else $XDG_STATE_HOME/redress (~/.local/state)."""
    configured = os.environ.get(LOG_DIR_ENV)
    if configured:
        return Path(configured)
    state = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(state) / "redress"


def command_path(group: Any, argv: list[str]) -> str:
    """The sub-command names at the start of `argv` (e.g. 'redress participant add'), never
    options or arguments: those may hold keys or paths that do not belong in a log. `group` is
    the Click group Typer builds (duck-typed: Typer may bring its own copy of Click)."""
    names = ["redress"]
    command = group
    for word in argv:
        if word.startswith("-"):
            continue  # a global flag such as --debug
        found = getattr(command, "commands", {}).get(word)
        if found is None:
            break
        names.append(word)
        command = found
    return " ".join(names)


def _write_log(exc: BaseException, what: str) -> Path | None:
    stamp = datetime.now(UTC)
    text = (
        f"{what} failed at {stamp.isoformat()} (redress {__version__}, Python "
        f"{sys.version.split()[0]})\n\n" + "".join(traceback.format_exception(exc))
    )
    name = f"crash-{stamp.strftime('%Y%m%dT%H%M%S')}-{os.getpid()}.log"
    for directory in (log_directory(), Path(tempfile.gettempdir())):
        try:
            directory.mkdir(parents=True, exist_ok=True)
            path = directory / name
            # Only the user may read it: a traceback can name files and settings.
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(descriptor, "w", encoding="utf-8") as out:
                out.write(text)
        except OSError:
            continue
        return path
    return None


def report_crash(exc: BaseException, what: str) -> int:
    """Tell the user in one line that `what` failed unexpectedly (and the traceback with
    --debug); returns the exit status to use."""
    if debug_enabled():
        traceback.print_exception(exc, file=sys.stderr)
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    if len(first) > 200:
        first = first[:197] + "..."
    reason = f"{type(exc).__name__}: {first}" if first else type(exc).__name__
    log = _write_log(exc, what)
    where = f"full traceback in {log}" if log is not None else "no log could be written"
    hint = "" if debug_enabled() else f"; run with --debug or {DEBUG_ENV}=1 to show it"
    sys.stderr.write(f"error: {what} failed unexpectedly ({reason}); {where}{hint}.\n")
    sys.stderr.flush()
    return 1
