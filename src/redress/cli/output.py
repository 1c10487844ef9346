"""Output formats of `redress hash` and `redress match`: JSONL (the stable interface other tools
read), CSV, and plain text that `redress match --against` reads back."""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from enum import StrEnum
from typing import Any, TextIO

from redress.hashing.files import FileHashes

HASH_CSV_COLUMNS = (
    "path",
    "type",
    "value",
    "quality",
    "variant",
    "error_code",
    "error_message",
    "warnings",
)


class OutputFormat(StrEnum):
    """How results are printed on standard output."""

    JSONL = "jsonl"
    CSV = "csv"
    TEXT = "text"


def hash_records(result: FileHashes) -> list[dict[str, Any]]:
    """The JSONL objects for one file: one per signal, or one with the error."""
    if result.error is not None:
        record: dict[str, Any] = {"path": result.path, "error": result.error.as_dict()}
        return [record]
    records = []
    for signal in result.signals:
        record = {
            "path": result.path,
            "type": signal.type,
            "value": signal.value,
            "quality": signal.quality,
            "variant": signal.variant,
        }
        if result.warnings:
            record["warnings"] = result.warnings
        records.append(record)
    return records


class HashWriter:
    """Writes `FileHashes` in one format; warnings and errors of the text format go to `err`."""

    def __init__(self, out: TextIO, fmt: OutputFormat, err: Callable[[str], None]) -> None:
        self._out = out
        self._fmt = fmt
        self._err = err
        self._csv = csv.writer(out, lineterminator="\n") if fmt is OutputFormat.CSV else None
        if self._csv is not None:
            self._csv.writerow(HASH_CSV_COLUMNS)

    def write(self, result: FileHashes) -> None:
        """Print every record of one file and flush, so output streams."""
        if self._fmt is OutputFormat.JSONL:
            for record in hash_records(result):
                self._out.write(json.dumps(record, ensure_ascii=False) + "\n")
        elif self._csv is not None:
            self._write_csv(result)
        else:
            self._write_text(result)
        self._out.flush()

    def _write_csv(self, result: FileHashes) -> None:
        assert self._csv is not None
        if result.error is not None:
            row = [result.path, "", "", "", "", result.error.code.value, result.error.message, ""]
            self._csv.writerow(row)
            return
        notes = " | ".join(result.warnings)
        for s in result.signals:
            quality = "" if s.quality is None else s.quality
            self._csv.writerow(
                [result.path, s.type, s.value, quality, s.variant or "", "", "", notes]
            )

    def _write_text(self, result: FileHashes) -> None:
        if result.error is not None:
            self._err(f"{result.path}: error ({result.error.code.value}): {result.error.message}")
            return
        for warning in result.warnings:
            self._err(f"{result.path}: warning: {warning}")
        for s in result.signals:
            label = result.path if s.variant is None else f"{result.path} [{s.variant}]"
            self._out.write(f"{s.type}\t{s.value.replace(chr(10), ';')}\t{label}\n")
