"""`redress hash`: hash files and folders, streaming one record per file and signal."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from redress.cli.batch import hash_files
from redress.cli.output import HashWriter, OutputFormat
from redress.cli.paths import iter_files
from redress.cli.progress import Progress
from redress.config import get_settings
from redress.hashing.errors import HashingError
from redress.hashing.files import HashOptions, parse_types


def hash_command(
    paths: Annotated[
        list[Path], typer.Argument(help="Files and folders to hash.", show_default=False)
    ],
    types: Annotated[
        str,
        typer.Option(
            "--types",
            "-t",
            help="Comma-separated signal types: pdq, vpdq, md5, sha256. 'auto' gives pdq for "
            "images and vpdq+md5 for videos.",
        ),
    ] = "auto",
    dihedral: Annotated[
        bool, typer.Option("--dihedral", help="Also print the 7 rotated/flipped PDQ variants.")
    ] = False,
    variants: Annotated[
        bool,
        typer.Option(
            "--variants",
            help="Also print the PDQ variants a bank should hold to catch edited copies "
            "(crops, caption bars, small rotations; see docs/variants.md).",
        ),
    ] = False,
    every_frame: Annotated[
        bool, typer.Option("--every-frame", help="Hash every video frame, not one per second.")
    ] = False,
    jobs: Annotated[
        int, typer.Option("--jobs", "-j", min=1, help="Worker processes (default: all cores).")
    ] = os.cpu_count() or 1,
    fmt: Annotated[
        OutputFormat, typer.Option("--format", "-f", help="Output format.")
    ] = OutputFormat.JSONL,
    max_pixels: Annotated[
        int | None,
        typer.Option(
            "--max-pixels",
            min=1,
            help="Refuse images with more pixels (default: REDRESS_MAX_IMAGE_PIXELS or 100 M).",
            show_default=False,
        ),
    ] = None,
    full_decode: Annotated[
        bool,
        typer.Option("--full-decode", help="Decode JPEGs at full size (slower; for checking)."),
    ] = False,
) -> None:
    """Hash image and video files."""
    try:
        chosen = parse_types(types)
    except HashingError as exc:
        raise typer.BadParameter(exc.message, param_hint="--types") from None
    options = HashOptions(
        types=chosen,
        dihedral=dihedral,
        variants=variants,
        every_frame=every_frame,
        fast=not full_decode,
        max_pixels=max_pixels or get_settings().max_image_pixels,
    )
    progress = Progress.for_paths(paths)
    writer = HashWriter(sys.stdout, fmt, progress.log)
    files = failed = signals = 0
    with progress:
        for result in hash_files(iter_files(paths), options, jobs):
            writer.write(result)
            files += 1
            signals += len(result.signals)
            if not result.ok:
                failed += 1
                if fmt is not OutputFormat.TEXT and result.error is not None:
                    progress.log(f"{result.path}: {result.error.message}")
            progress.advance()
    summary = f"Hashed {files - failed} of {files} file(s): {signals} signal(s)"
    progress.log(summary + (f"; {failed} failed." if failed else "."))
    raise typer.Exit(1 if failed else 0)
