"""A missing prerequisite (reference data, Node.js, Chromium) skips its tests on a developer's
machine but fails the run under CI=true, saying what is missing and how to provide it."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.conftest import REPO


def _pytest(tmp_path, ci: bool, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    env.update(REDRESS_REFERENCE_DIR=str(tmp_path / "nowhere"), REDRESS_CHROMIUM="/nonexistent")
    if ci:
        env["CI"] = "true"
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


REFERENCE_TEST = "tests/test_signal_types.py::test_vpdq_reads_the_reference_output_unchanged"
BROWSER_TEST = "tests/portal/test_layout.py::test_arabic_is_right_to_left"


def test_missing_prerequisites_skip_locally_and_fail_under_ci(tmp_path) -> None:
    local = _pytest(tmp_path, False, "-rs", REFERENCE_TEST, BROWSER_TEST)
    assert local.returncode == 0, local.stdout + local.stderr
    assert "2 skipped" in local.stdout, local.stdout
    ci = _pytest(tmp_path, True, REFERENCE_TEST, BROWSER_TEST)
    assert ci.returncode == 1, ci.stdout + ci.stderr
    assert "2 error" in ci.stdout, ci.stdout
    nowhere = tmp_path / "nowhere"
    assert (
        f"reference data not found at {nowhere} (required when CI=true): put the shared/ folder "
        "beside the clone or set REDRESS_REFERENCE_DIR"
    ) in ci.stdout
    assert (
        "Chromium not found at /nonexistent (required when CI=true): apt-get install chromium"
    ) in ci.stdout
