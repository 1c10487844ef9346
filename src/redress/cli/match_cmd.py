"""`redress match`: match media files or literal hashes against a hash list."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from redress.cli.batch import hash_files
from redress.cli.paths import iter_files
from redress.cli.progress import Progress
from redress.config import get_settings, with_limits
from redress.hashing.errors import ErrorCode, HashingError, InvalidSignalError
from redress.hashing.files import FileHashes, HashOptions, SignalRecord
from redress.hashing.signal_types import PdqSignal, VpdqSignal, bare_hex_type, normalise_signal
from redress.matching.hashlist import read_hash_list
from redress.matching.matcher import HashListMatch, HashListMatcher


class MatchFormat(StrEnum):
    """How matches are printed."""

    JSONL = "jsonl"
    TEXT = "text"


def parse_literal(text: str) -> SignalRecord:
    """A query given as a hash: bare hex (64: PDQ, 32: MD5) or ``TYPE:VALUE``."""
    kind, sep, value = text.partition(":")
    if not sep:
        kind, value = bare_hex_type(text) or "", text
    if not kind:
        raise InvalidSignalError(
            "not an existing file, and not a hash value (expected 64 hex characters for PDQ, "
            "32 for MD5, or TYPE:VALUE such as sha256:...)"
        )
    signal_type, normal = normalise_signal(kind, value)
    return SignalRecord(signal_type.name, normal)


def match_command(
    queries: Annotated[
        list[str],
        typer.Argument(help="Media files, folders, or hash values.", show_default=False),
    ],
    against: Annotated[
        Path,
        typer.Option("--against", "-a", help="The hash list to match against.", show_default=False),
    ],
    threshold: Annotated[
        int | None,
        typer.Option(
            "--threshold",
            min=0,
            max=256,
            help="Largest PDQ distance that counts as a match (default 31; also per vPDQ frame).",
            show_default=False,
        ),
    ] = None,
    vpdq_match_percent: Annotated[
        float,
        typer.Option(
            "--vpdq-match-percent",
            min=0,
            max=100,
            help="Share of each video's frames the other must cover for a vPDQ match.",
        ),
    ] = VpdqSignal.match_percent,
    plain: Annotated[
        bool,
        typer.Option(
            "--plain",
            help="Match only the plain PDQ of each file (no orientations, trimming or crops).",
        ),
    ] = False,
    jobs: Annotated[
        int, typer.Option("--jobs", "-j", min=1, help="Worker processes for hashing files.")
    ] = os.cpu_count() or 1,
    fmt: Annotated[
        MatchFormat, typer.Option("--format", "-f", help="Output format.")
    ] = MatchFormat.JSONL,
) -> None:
    """Match files or hashes against a hash list."""
    progress = Progress.messages_only()
    try:
        entries, problems = read_hash_list(against)
    except (OSError, UnicodeDecodeError) as exc:
        raise typer.BadParameter(
            f"cannot read the hash list: {exc}", param_hint="--against"
        ) from None
    for problem in problems:
        progress.log(f"{against}:{problem.line}: skipped: {problem.message}")
    if not entries:
        raise typer.BadParameter(
            "the hash list holds no valid entry (see the messages above for its lines)",
            param_hint="--against",
        )
    matcher = HashListMatcher(
        entries,
        pdq_threshold=PdqSignal.default_threshold if threshold is None else threshold,
        vpdq_match_percent=vpdq_match_percent,
    )
    options = with_limits(
        HashOptions(types=tuple(sorted(matcher.types)), query_variants=not plain),
        get_settings(),
    )
    queried = matched = failed = 0
    for query, result in _query_results(queries, options, jobs):
        queried += 1
        if result.error is not None:
            failed += 1
            if fmt is MatchFormat.JSONL:
                _emit({"query": query, "error": result.error.as_dict()})
            progress.log(f"{query}: error ({result.error.code.value}): {result.error.message}")
            continue
        signals = [s for s in result.signals if not (plain and s.variant)]
        found = matcher.match(signals)
        matched += bool(found)
        for match in found:
            record = match_record(query, match)
            if fmt is MatchFormat.JSONL:
                _emit(record)
            else:
                _emit_text(record)
    progress.log(
        f"{queried} quer{'y' if queried == 1 else 'ies'}: {matched} matched"
        + (f", {failed} failed." if failed else ".")
    )
    raise typer.Exit(1 if failed else 0)


def _query_results(
    queries: list[str], options: HashOptions, jobs: int
) -> Iterator[tuple[str, FileHashes]]:
    files: list[Path] = []
    for query in queries:
        path = Path(query)
        if path.exists():
            files.append(path)
            continue
        try:
            literal = parse_literal(query)
        except HashingError as exc:
            code = ErrorCode.NOT_FOUND if exc.code is ErrorCode.INVALID_SIGNAL else exc.code
            yield query, FileHashes(query, error=HashingError(code, exc.message))
        else:
            yield query, FileHashes(query, signals=[literal])
    # The files decoded at once share REDRESS_HASH_MEMORY_BUDGET_MB, as with `redress hash`.
    budget = max(get_settings().hash_memory_budget_mb, options.max_decode_mb) << 20
    for result in hash_files(iter_files(files), options, jobs, budget):
        yield result.path, result


def match_record(query: str, match: HashListMatch) -> dict[str, Any]:
    """The JSONL object for one match: the query, how close, and the list record as read."""
    record: dict[str, Any] = {
        "query": query,
        "type": match.type,
        "distance": match.distance,
        "query_variant": match.query_variant,
        "matched": match.entry.record,
        "matched_line": match.entry.line,
    }
    if match.query_match_percent is not None:
        record["query_match_percent"] = match.query_match_percent
        record["matched_match_percent"] = match.matched_match_percent
    return record


def _emit_text(record: dict[str, Any]) -> None:
    matched = record["matched"]
    label = matched.get("path") or matched.get("label") or f"line {record['matched_line']}"
    distance = "" if record["distance"] is None else str(record["distance"])
    variant = record["query_variant"] or ""
    sys.stdout.write(f"{record['query']}\t{record['type']}\t{distance}\t{variant}\t{label}\n")
    sys.stdout.flush()


def _emit(record: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(record, ensure_ascii=False) + "\n")
    sys.stdout.flush()
