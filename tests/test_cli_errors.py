"""What the command line does with an error nobody expected (real processes): one line naming
the command and a log file holding the traceback, exit 1; the traceback itself only with
`--debug` or REDRESS_DEBUG=1; usage errors keep exit 2 and write no log."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

# The real entry point (`redress.cli.main.run`) with one more sub-command that fails the way a
# bug would, so the handler is exercised end to end without breaking a real command.
FAILING = """
import sys
from redress.cli import main

@main.app.command("explode")
def explode(secret: str) -> None:
    raise RuntimeError("the disk said no\\nsecond line of detail")

main.run()
"""


def run_cli(
    tmp_path: Path, *args: str, script: str | None = None, **env: str
) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "REDRESS_LOG_DIR": str(tmp_path / "logs"), **env}
    if "REDRESS_DEBUG" not in env:
        environment.pop("REDRESS_DEBUG", None)
    command = [sys.executable, "-c", script] if script else [sys.executable, "-m", "redress"]
    return subprocess.run(
        [*command, *args],
        capture_output=True,
        text=True,
        env=environment,
        cwd=tmp_path,
        timeout=120,
        check=False,
    )


def logs(tmp_path: Path) -> list[Path]:
    folder = tmp_path / "logs"
    return sorted(folder.iterdir()) if folder.exists() else []


def test_an_unexpected_error_is_one_line_and_a_private_log(tmp_path: Path) -> None:
    run = run_cli(tmp_path, "explode", "rk_top_secret", script=FAILING)
    assert run.returncode == 1
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1, run.stderr
    assert "Traceback" not in run.stderr
    line = lines[0]
    assert line.startswith("error: redress explode failed unexpectedly")
    assert "RuntimeError: the disk said no" in line and "second line" not in line
    assert "--debug" in line
    (log,) = logs(tmp_path)
    assert str(log) in line
    assert stat.S_IMODE(log.stat().st_mode) == 0o600
    content = log.read_text()
    assert "Traceback (most recent call last)" in content
    assert "second line of detail" in content
    assert "rk_top_secret" not in content + run.stderr  # arguments are never logged


@pytest.mark.parametrize("how", ["flag", "environment"])
def test_debug_shows_the_traceback(tmp_path: Path, how: str) -> None:
    if how == "flag":
        run = run_cli(tmp_path, "--debug", "explode", "x", script=FAILING)
    else:
        run = run_cli(tmp_path, "explode", "x", script=FAILING, REDRESS_DEBUG="1")
    assert run.returncode == 1
    assert "Traceback (most recent call last)" in run.stderr
    assert "in explode\nRuntimeError: the disk said no\nsecond line" in run.stderr
    last = run.stderr.strip().splitlines()[-1]
    assert last.startswith("error: redress explode failed unexpectedly")
    assert "--debug" not in last
    assert len(logs(tmp_path)) == 1


def test_debug_off_in_the_environment_hides_it(tmp_path: Path) -> None:
    run = run_cli(tmp_path, "explode", "x", script=FAILING, REDRESS_DEBUG="0")
    assert run.returncode == 1 and "Traceback" not in run.stderr


def test_usage_errors_keep_exit_2_and_write_no_log(tmp_path: Path) -> None:
    for args in (
        ["hash", "--types", "bogus", "x.jpg"],
        ["no-such-command"],
        ["participant", "add"],
        ["--debug", "match", "abc"],
    ):
        run = run_cli(tmp_path, *args)
        assert run.returncode == 2, (args, run.stderr)
        assert "Traceback" not in run.stderr
    assert logs(tmp_path) == []


def test_an_unwritable_log_folder_falls_back_to_the_temporary_folder(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the log folder should be")
    run = run_cli(tmp_path, "explode", "x", script=FAILING, REDRESS_LOG_DIR=str(blocker / "logs"))
    assert run.returncode == 1
    line = run.stderr.strip()
    assert "full traceback in " in line
    written = Path(line.split("full traceback in ")[1].split(";")[0])
    try:
        assert written.is_file() and "RuntimeError" in written.read_text()
    finally:
        written.unlink()


def test_the_agent_warns_about_a_key_on_the_command_line(tmp_path: Path) -> None:
    # A URL the agent refuses stops it right after its argument checks (exit 2).
    flagged = run_cli(tmp_path, "agent", "--hub-url", "ftp://x", "--hub-key", "rk_a_b")
    assert flagged.returncode == 2
    assert "--hub-key on the command line is visible to other users" in flagged.stderr
    from_env = run_cli(tmp_path, "agent", "--hub-url", "ftp://x", REDRESS_AGENT_HUB_KEY="rk_a_b")
    assert from_env.returncode == 2
    assert "url must start with http:// or https://" in from_env.stderr
    assert "visible to other users" not in from_env.stderr
