"""`redress hash`: hash files and folders, streaming one record per file and signal."""

from __future__ import annotations

import os
import sys
from dataclasses import replace
from pathlib import Path
from typing import Annotated

import typer

from redress.cli.batch import hash_files
from redress.cli.output import HashWriter, OutputFormat
from redress.cli.paths import iter_files
from redress.cli.progress import Progress
from redress.config import get_settings, with_limits
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
    max_decode_mb: Annotated[
        int | None,
        typer.Option(
            "--max-decode-mb",
            min=64,
            help="Refuse files that need more memory to decode, in MiB (default: "
            "REDRESS_MAX_DECODE_MB or 1024).",
            show_default=False,
        ),
    ] = None,
    memory_budget_mb: Annotated[
        int | None,
        typer.Option(
            "--memory-budget-mb",
            min=64,
            help="With --jobs: memory the files decoded at once may take together, in MiB "
            "(default: REDRESS_HASH_MEMORY_BUDGET_MB or 2048).",
            show_default=False,
        ),
    ] = None,
    max_video_seconds: Annotated[
        float | None,
        typer.Option(
            "--max-video-seconds",
            min=1,
            help="Refuse longer videos (default: REDRESS_MAX_VIDEO_SECONDS or 3 hours).",
            show_default=False,
        ),
    ] = None,
    max_video_frames: Annotated[
        int | None,
        typer.Option(
            "--max-video-frames",
            min=1,
            help="Most frames hashed per video (default: REDRESS_MAX_VIDEO_FRAMES or 36000).",
            show_default=False,
        ),
    ] = None,
    video_deadline: Annotated[
        float | None,
        typer.Option(
            "--video-deadline",
            min=1,
            help="Seconds hashing one video may take (default: REDRESS_VIDEO_DEADLINE_SECONDS "
            "or 600).",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Hash image and video files."""
    try:
        chosen = parse_types(types)
    except HashingError as exc:
        raise typer.BadParameter(exc.message, param_hint="--types") from None
    settings = get_settings()
    options = with_limits(
        HashOptions(
            types=chosen,
            dihedral=dihedral,
            variants=variants,
            every_frame=every_frame,
            fast=not full_decode,
        ),
        settings,
    )
    options = replace(
        options,
        max_pixels=max_pixels or options.max_pixels,
        max_decode_mb=max_decode_mb or options.max_decode_mb,
        max_video_seconds=max_video_seconds or options.max_video_seconds,
        max_video_frames=max_video_frames or options.max_video_frames,
        video_deadline_seconds=video_deadline or options.video_deadline_seconds,
    )
    # Each file stays under its own limit, so the total must hold at least one of them.
    budget = max(memory_budget_mb or settings.hash_memory_budget_mb, options.max_decode_mb) << 20
    progress = Progress.for_paths(paths)
    writer = HashWriter(sys.stdout, fmt, progress.log)
    files = failed = signals = 0
    with progress:
        for result in hash_files(iter_files(paths), options, jobs, budget):
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
