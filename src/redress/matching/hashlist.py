"""Reading hash lists: the files `redress match --against` takes.

Accepted, line by line (formats may not be mixed within a CSV file, but text and JSONL lines can):

- ``TYPE VALUE [label...]`` (space- or tab-separated), e.g. ``pdq 9a3f...  holiday.jpg``; vPDQ
  values use ``;`` between frames on one line;
- a bare hex value: 64 characters is taken as PDQ (as in Meta's test lists), 32 as MD5;
- JSON objects with ``type`` and ``value``, as ``redress hash --format jsonl`` writes them
  (records of files that failed, with an ``error``, are skipped);
- CSV with a header row naming ``type`` and ``value`` columns, as ``--format csv`` writes them.

Blank lines and lines starting with ``#`` are ignored. Bad lines are reported with their line
number and the rest of the list is still used.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from redress.hashing.errors import InvalidSignalError
from redress.hashing.signal_types import bare_hex_type, normalise_signal


@dataclass(frozen=True, slots=True)
class HashListEntry:
    """One signal from a hash list, with the record it came from, as it was read."""

    type: str
    value: str
    record: dict[str, Any]
    line: int


@dataclass(frozen=True, slots=True)
class HashListProblem:
    """A line of a hash list that could not be used, and why."""

    line: int
    message: str


def read_hash_list(path: Path) -> tuple[list[HashListEntry], list[HashListProblem]]:
    """All valid entries of the list at `path`, and the problems with the other lines.

    Raises `OSError` if the file cannot be read, `UnicodeDecodeError` if it is not text.
    """
    text = path.read_text(encoding="utf-8-sig")
    entries: list[HashListEntry] = []
    problems: list[HashListProblem] = []
    for line, record in _records(text, problems):
        try:
            entries.append(_entry(record, line))
        except InvalidSignalError as exc:
            problems.append(HashListProblem(line, exc.message))
        except _NoSignalError:
            continue
    return entries, problems


class _NoSignalError(Exception):
    """A well-formed record that holds no signal (a failed file in `redress hash` output)."""


def _records(text: str, problems: list[HashListProblem]) -> Iterator[tuple[int, dict[str, Any]]]:
    first = next((line for line in text.splitlines() if line.strip()), "")
    header = [cell.strip().lower() for cell in next(csv.reader([first]), [])]
    if "type" in header and "value" in header and not first.lstrip().startswith("{"):
        reader = csv.DictReader(io.StringIO(text))
        failures, most = 0, text.count("\n") + 1
        while True:
            try:
                row = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:  # e.g. a field past the csv module's size limit
                # The bad line is consumed but not counted in line_num; each error moves on
                # by at least one line, and there cannot be more errors than lines.
                failures += 1
                problems.append(HashListProblem(reader.line_num + 1, f"unreadable CSV row ({exc})"))
                if failures > most:
                    return
                continue
            yield reader.line_num, {key: value for key, value in row.items() if key is not None}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("{"):
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                problems.append(HashListProblem(number, f"invalid JSON ({exc.msg})"))
                continue
            except RecursionError:
                problems.append(HashListProblem(number, "invalid JSON (nested too deeply)"))
                continue
            if not isinstance(record, dict):
                problems.append(HashListProblem(number, "a JSON line must be an object"))
                continue
            yield number, record
            continue
        parts = line.split("\t") if "\t" in line else line.split(None, 2)
        parts = [part.strip() for part in parts]
        bare = bare_hex_type(parts[0]) if len(parts) == 1 else None
        if bare is not None:
            yield number, {"type": bare, "value": parts[0]}
        elif len(parts) >= 2:
            record = {"type": parts[0], "value": parts[1]}
            if len(parts) > 2 and parts[2]:
                record["label"] = "\t".join(parts[2:])
            yield number, record
        else:
            problems.append(
                HashListProblem(
                    number, "expected 'TYPE VALUE [label]', a bare hash, or a JSON object"
                )
            )


def _entry(record: dict[str, Any], line: int) -> HashListEntry:
    if record.get("error") and not record.get("value"):
        raise _NoSignalError
    kind, value = record.get("type"), record.get("value")
    if not isinstance(kind, str) or not kind or not isinstance(value, str):
        raise InvalidSignalError("the record needs a 'type' and a 'value'")
    signal_type, normal = normalise_signal(kind, value)
    return HashListEntry(signal_type.name, normal, record, line)
