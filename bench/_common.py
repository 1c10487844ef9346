"""Shared by the benchmark scripts: where the reference data is, and how results are kept."""

from __future__ import annotations

import json
import os
import platform
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "bench" / "out"


def reference_dir() -> Path:
    """../shared/reference beside the clone (or REDRESS_REFERENCE_DIR); exits if missing."""
    path = Path(os.environ.get("REDRESS_REFERENCE_DIR", REPO.parent / "shared" / "reference"))
    if not (path / "pdq").is_dir():
        sys.exit(f"reference data not found at {path}; set REDRESS_REFERENCE_DIR")
    return path.resolve()


def write_result(name: str, data: dict[str, Any]) -> Path:
    """Save a benchmark's figures as bench/out/NAME.json with the date and machine."""
    OUT.mkdir(parents=True, exist_ok=True)
    data = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": (
            f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
        ),
        **data,
    }
    target = OUT / f"{name}.json"
    target.write_text(json.dumps(data, indent=2) + "\n")
    return target
