"""Walking the paths given on the command line, lazily, so 100,000 files are never held at once."""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from pathlib import Path


def iter_files(paths: Sequence[Path]) -> Iterator[Path]:
    """Each given file, and every file under each given directory (recursive, sorted).

    Hidden files and folders (names starting with '.') inside directories are skipped; a path
    given explicitly is always yielded, even if missing, so that its error gets reported.
    """
    for path in paths:
        if path.is_dir():
            yield from _walk(path)
        else:
            yield path


def _walk(root: Path) -> Iterator[Path]:
    for directory, subdirs, files in os.walk(root):
        subdirs[:] = sorted(name for name in subdirs if not name.startswith("."))
        for name in sorted(files):
            if not name.startswith("."):
                yield Path(directory) / name


def count_files(paths: Sequence[Path]) -> int:
    """How many files `iter_files` will yield (a cheap first pass for the progress bar)."""
    return sum(1 for _ in iter_files(paths))
