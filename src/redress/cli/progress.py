"""A progress bar on standard error when it is a terminal; plain messages otherwise."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeRemainingColumn
from rich.progress import Progress as RichProgress

from redress.cli.paths import count_files


class Progress:
    """Counts files done; draws a Rich bar only when stderr is a terminal."""

    def __init__(self, total: int | None, console: Console) -> None:
        self._console = console
        self._bar: RichProgress | None = None
        self._task = None
        if total is not None:
            self._bar = RichProgress(
                TextColumn("Hashing"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeRemainingColumn(),
                console=console,
                transient=True,
            )
            self._task = self._bar.add_task("hash", total=total)

    @classmethod
    def for_paths(cls, paths: Sequence[Path]) -> Progress:
        """A bar sized by a first counting pass if stderr is a terminal; silent otherwise."""
        console = Console(stderr=True, highlight=False)
        interactive = sys.stderr.isatty()
        return cls(count_files(paths) if interactive else None, console)

    @classmethod
    def messages_only(cls) -> Progress:
        """No bar: just messages on stderr."""
        return cls(None, Console(stderr=True, highlight=False))

    def __enter__(self) -> Progress:
        if self._bar is not None:
            self._bar.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._bar is not None:
            self._bar.stop()

    def advance(self) -> None:
        """One more file done."""
        if self._bar is not None and self._task is not None:
            self._bar.advance(self._task)

    def log(self, message: str) -> None:
        """A line on stderr, above the bar if there is one."""
        self._console.print(escape(message), soft_wrap=True)
