"""Install Redress the way a user does and run every entry point once.

Builds the wheel from a clean copy of the sources, installs it *without extras* into a fresh
virtualenv (so a runtime import of a dev-only package fails here, as it would for a user), then:
imports every module; runs `--help` of every command and sub-command (read from the Typer app,
so a new command is covered without editing this file); hashes a reference photo; checks that a
database command on a blank database asks for `redress db upgrade`; migrates, starts the hub and
waits for `/readyz`; fetches a portal page (in English and Spanish) and a portal script;
registers a platform; checks that `redress agent` on a blank database asks
for `redress agent db upgrade`, migrates it, starts an agent following that hub (key from the
environment), waits for its `/readyz` and lists its quarantine through the CLI.

Prints one line per step (ok/FAILED, seconds) and a summary; exits 1 if any step failed.
Run by `make test` before pytest and alone by `make smoke`:

    python tests/smoke/install_smoke.py [--keep]

pip uses its cache and the indexes configured on the machine; nothing else is downloaded.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
REFERENCE = Path(
    os.environ.get("REDRESS_REFERENCE_DIR", REPO.parent / "shared" / "reference")
).resolve()
PHOTO = REFERENCE / "pdq" / "bridge-mods" / "aaa-orig.jpg"
READY_SECONDS = 90.0
COMMAND_SECONDS = 300

# Printed by the fresh interpreter: every command path of the CLI, and every importable module.
LIST_COMMANDS = """
import json, typer
from redress.cli.main import app
def walk(command, path):
    found = [path]
    for name, sub in sorted(getattr(command, "commands", {}).items()):
        if not getattr(sub, "hidden", False):
            found += walk(sub, [*path, name])
    return found
print(json.dumps(walk(typer.main.get_command(app), [])))
"""
IMPORT_ALL = """
import importlib, pkgutil, redress
# Migration scripts run only inside Alembic; __main__ would run the CLI.
skip = ("redress.hub.migrations.", "redress.agent.migrations.", "redress.__main__")
names = [m.name for m in pkgutil.walk_packages(redress.__path__, "redress.")
         if not m.name.startswith(skip)]
for name in names:
    importlib.import_module(name)
print(len(names))
"""


class StepFailedError(Exception):
    """A step did not do what a user expects; the message says what happened."""


@dataclass
class Smoke:
    """The steps run so far and the places they use."""

    work: Path
    results: list[tuple[str, bool, float, str]] = field(default_factory=list)
    stopped: list[tuple[str, int | None, str]] = field(default_factory=list)

    @property
    def venv(self) -> Path:
        return self.work / "venv"

    def env(self, **extra: str) -> dict[str, str]:
        """A user's environment: the fresh virtualenv first on PATH, nothing of this checkout."""
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "REDRESS_"))}
        env.pop("VIRTUAL_ENV", None)
        env["PATH"] = f"{self.venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
        env["REDRESS_DATABASE_URL"] = f"sqlite:///{self.work / 'hub.db'}"
        env["REDRESS_LOG_DIR"] = str(self.work / "logs")
        env.update(extra)
        return env

    def step(self, name: str, action: Callable[[], str | None]) -> bool:
        """Run one step, print its line, remember the result."""
        return self.record(name, *_timed(action))

    def record(self, name: str, ok: bool, seconds: float, note: str) -> bool:
        """Print and remember the result of a step."""
        self.results.append((name, ok, seconds, note))
        status = "ok" if ok else "FAILED"
        detail = f"  ({note})" if note and ok else ""
        print(f"  {status:<6} {seconds:6.1f}s  {name}{detail}", flush=True)
        if not ok:
            print("           " + note.replace("\n", "\n           "), flush=True)
        return ok

    def run(
        self, *args: str | Path, env: dict[str, str] | None = None, expect: int = 0
    ) -> subprocess.CompletedProcess[str]:
        """Run a command; fail the step (with its output) unless it exits with `expect`."""
        done = subprocess.run(
            [str(a) for a in args],
            capture_output=True,
            text=True,
            env=env or self.env(),
            cwd=self.work,
            timeout=COMMAND_SECONDS,
            check=False,
        )
        if done.returncode != expect:
            raise StepFailedError(
                f"{' '.join(map(str, args))} exited {done.returncode} (expected {expect}):\n"
                + _tail(done.stdout + done.stderr)
            )
        return done


def _timed(action: Callable[..., str | None], *args: object) -> tuple[bool, float, str]:
    start = time.monotonic()
    try:
        note = action(*args) or ""
        ok = True
    except StepFailedError as exc:
        note, ok = str(exc), False
    except Exception as exc:  # a bug in this script is a failed step, not a crash
        note, ok = f"{type(exc).__name__}: {exc}", False
    return ok, time.monotonic() - start, note


def _tail(text: str, lines: int = 25) -> str:
    kept = text.strip().splitlines()[-lines:]
    return "\n".join(kept) if kept else "(no output)"


def _quiet(_: object) -> None:
    return None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def _server(smoke: Smoke, log_name: str, *args: str, env: dict[str, str]) -> Iterator[Path]:
    """Start a long-running command (its output to a log file); stop it (SIGTERM, as a service
    manager does) on leaving, and record how it ended."""
    log = smoke.work / log_name
    with log.open("w") as out:
        process = subprocess.Popen(
            list(args), stdout=out, stderr=subprocess.STDOUT, env=env, cwd=smoke.work
        )
    try:
        yield log
    finally:
        ended = process.poll()
        if ended is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(15)
                smoke.stopped.append((" ".join(args[:2]), process.returncode, ""))
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
                smoke.stopped.append((" ".join(args[:2]), None, "did not stop within 15 s"))
        else:
            note = f"exited by itself ({ended}):\n{_tail(log.read_text())}"
            smoke.stopped.append((" ".join(args[:2]), ended, note))


def _stopped(smoke: Smoke) -> str:
    """Both servers were still running when stopped, stopped on SIGTERM (uvicorn exits 0 or
    re-raises the signal after its graceful shutdown), and logged no traceback."""
    problems = [
        f"{name}: {note or f'exit status {code}'}"
        for name, code, note in smoke.stopped
        if note or code not in (0, -signal.SIGTERM)
    ]
    for log in ("hub.log", "agent.log"):
        text = (smoke.work / log).read_text() if (smoke.work / log).exists() else ""
        if "Traceback" in text:
            problems.append(f"{log} holds a traceback:\n{_tail(text)}")
    if problems:
        raise StepFailedError("\n".join(problems))
    return ", ".join(name for name, _, _ in smoke.stopped)


def _wait_ready(url: str, log: Path, headers: dict[str, str] | None = None) -> str:
    """Poll `url` until it answers 200 (a server starting up), or fail with its log."""
    deadline = time.monotonic() + READY_SECONDS
    last = "no answer"
    while time.monotonic() < deadline:
        request = urllib.request.Request(url, headers=headers or {})
        try:
            with urllib.request.urlopen(request, timeout=5) as response:
                if response.status == 200:
                    return f"{url} -> 200"
                last = f"HTTP {response.status}"
        except urllib.error.HTTPError as exc:
            last = f"HTTP {exc.code}: {exc.read(200).decode(errors='replace')}"
        except OSError as exc:
            last = str(exc)
        time.sleep(0.25)  # a server starting in another process: nothing to inject a clock into
    log_tail = _tail(log.read_text())
    raise StepFailedError(f"{url} not ready in {READY_SECONDS:.0f}s ({last}):\n{log_tail}")


def build_wheel(smoke: Smoke) -> str:
    """The wheel, built from a copy of exactly what is in the tree (no stale build/ folder)."""
    source = smoke.work / "source"
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info", "*.pyc")
    shutil.copytree(REPO / "src", source / "src", ignore=ignore)
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy2(REPO / name, source / name)
    smoke.run(
        sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps",
        "--wheel-dir", smoke.work / "dist", source,
        env={**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"},
    )  # fmt: skip
    (wheel,) = (smoke.work / "dist").glob("redress-*.whl")
    return wheel.name


def install(smoke: Smoke) -> str:
    """A fresh virtualenv with the wheel and its runtime dependencies only."""
    smoke.run(sys.executable, "-m", "venv", smoke.venv, env=dict(os.environ))
    (wheel,) = (smoke.work / "dist").glob("redress-*.whl")
    python = smoke.venv / "bin" / "python"
    smoke.run(
        # --no-compile: byte-compiling every dependency up front is most of the install time.
        python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-compile",
        wheel,
        env={k: v for k, v in os.environ.items() if not k.startswith("PYTHON")},
    )  # fmt: skip
    where = smoke.run(python, "-c", "import redress; print(redress.__file__)").stdout.strip()
    if not where.startswith(str(smoke.venv)):
        raise StepFailedError(f"redress was imported from {where}, not from the fresh virtualenv")
    return "no extras"


def check_hash(smoke: Smoke) -> str:
    photo = PHOTO
    note = f"reference photo {PHOTO.name}"
    if not PHOTO.is_file():
        # Without ../shared/reference, a picture drawn by the installed Pillow stands in.
        photo = smoke.work / "generated.png"
        smoke.run(
            smoke.venv / "bin" / "python", "-c",
            "import sys; from PIL import Image, ImageDraw; im = Image.new('RGB', (256, 256));"
            "d = ImageDraw.Draw(im); [d.ellipse((i, i, 255 - i // 2, 200), "
            "outline=(i, 90, 255 - i)) for i in range(0, 120, 6)]; im.save(sys.argv[1])",
            photo,
        )  # fmt: skip
        note = f"generated image: no reference data at {REFERENCE}"
    done = smoke.run("redress", "hash", "--jobs", "2", photo)
    records = [json.loads(line) for line in done.stdout.splitlines() if line.strip()]
    pdq = [r for r in records if r.get("type") == "pdq" and len(r.get("value", "")) == 64]
    if not pdq:
        raise StepFailedError(f"no PDQ hash in the output:\n{_tail(done.stdout + done.stderr)}")
    return note


def check_blank(smoke: Smoke) -> None:
    done = smoke.run("redress", "participant", "list", expect=1)
    lines = done.stderr.strip().splitlines()
    if len(lines) != 1 or "redress db upgrade" not in lines[0]:
        raise StepFailedError(f"expected one line asking for 'redress db upgrade':\n{done.stderr}")


def main() -> int:
    """Run every step; 0 if all passed."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--keep", action="store_true", help="keep the work folder (and say where)")
    options = parser.parse_args()
    # Stopped from outside (a CI timeout, kill): unwind, so the servers stop and files go.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    work = Path(tempfile.mkdtemp(prefix="redress-smoke-"))
    smoke = Smoke(work)
    started = time.monotonic()
    print("Install smoke test: the wheel, without extras, in a fresh virtualenv", flush=True)
    try:
        _steps(smoke)
    finally:
        if options.keep:
            print(f"Work folder kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    failed = [name for name, ok, _, _ in smoke.results if not ok]
    total = time.monotonic() - started
    print(
        f"Install smoke test: {len(smoke.results) - len(failed)} passed, {len(failed)} failed "
        f"({total:.1f} s)" + (f"; failed: {', '.join(failed)}" if failed else ""),
        flush=True,
    )
    return 1 if failed else 0


def _steps(smoke: Smoke) -> None:
    if not smoke.step("build the wheel", lambda: build_wheel(smoke)):
        return
    if not smoke.step("install it into a fresh virtualenv", lambda: install(smoke)):
        return
    python = smoke.venv / "bin" / "python"
    smoke.step(
        "import every module",
        lambda: smoke.run(python, "-c", IMPORT_ALL).stdout.strip() + " modules",
    )
    smoke.step("redress --version", lambda: smoke.run("redress", "--version").stdout.strip())
    commands: list[list[str]] = []

    def list_commands() -> str:
        commands.extend(json.loads(smoke.run(python, "-c", LIST_COMMANDS).stdout))
        return f"{len(commands)} commands"

    smoke.step("list the commands", list_commands)

    def show_help(path: list[str]) -> None:
        out = smoke.run("redress", *path, "--help").stdout
        if "Usage:" not in out:
            raise StepFailedError(f"no usage text:\n{_tail(out)}")

    # Two at a time (each is a process start-up), reported in order.
    with ThreadPoolExecutor(2) as pool:
        started = [(path, pool.submit(_timed, show_help, path)) for path in commands]
        for path, future in started:
            smoke.record(" ".join(["redress", *path, "--help"]), *future.result())
    smoke.step("redress hash", lambda: check_hash(smoke))
    smoke.step("a blank database asks for 'redress db upgrade'", lambda: check_blank(smoke))
    if not smoke.step("redress db upgrade", lambda: _quiet(smoke.run("redress", "db", "upgrade"))):
        return
    hub_port, agent_port = _free_port(), _free_port()
    hub_url = f"http://127.0.0.1:{hub_port}"
    with ExitStack() as servers:

        def start_hub() -> str:
            args = ("redress", "serve", "--port", str(hub_port))
            log = servers.enter_context(_server(smoke, "hub.log", *args, env=smoke.env()))
            return _wait_ready(f"{hub_url}/readyz", log)

        if not smoke.step("redress serve -> /readyz", start_hub):
            return

        def portal_files() -> str:
            # The wheel must carry the portal's templates, scripts and catalogues: a page that
            # renders and a script that is served, in a language other than English.
            fetched = []
            for path, language, expect in (
                ("/", "en", b'lang="en"'),
                ("/", "es", b'lang="es"'),
                ("/static/js/pdq.js", "en", b"export"),
            ):
                request = urllib.request.Request(
                    f"{hub_url}{path}", headers={"Accept-Language": language}
                )
                with urllib.request.urlopen(request, timeout=10) as response:
                    body = response.read()
                if expect not in body:
                    raise StepFailedError(f"{path} ({language}): {expect!r} not in the answer")
                fetched.append(f"{path} ({language}) {len(body)} B")
            return ", ".join(fetched)

        smoke.step("the hub serves the portal's pages and scripts", portal_files)
        key: list[str] = []
        if not smoke.step("redress participant add", lambda: add_participant(smoke, key)):
            return

        token = "smoke-" + os.urandom(12).hex()
        agent_env = smoke.env(
            REDRESS_AGENT_HUB_KEY=key[0],  # from the environment, as the README says
            REDRESS_AGENT_TOKEN=token,
            REDRESS_AGENT_DATABASE_URL=f"sqlite:///{smoke.work / 'agent.db'}",
            REDRESS_AGENT_STATE_DIR=str(smoke.work / "agent-state"),
        )
        agent_args = ("redress", "agent", "--hub-url", hub_url, "--port", str(agent_port))

        def check_blank_agent() -> None:
            done = smoke.run(*agent_args, env=agent_env, expect=1)
            lines = done.stderr.strip().splitlines()
            if len(lines) != 1 or "redress agent db upgrade" not in lines[0]:
                raise StepFailedError(
                    f"expected one line asking for 'redress agent db upgrade':\n{done.stderr}"
                )

        smoke.step("a blank agent database asks for 'redress agent db upgrade'", check_blank_agent)
        upgrade = ("redress", "agent", "db", "upgrade")
        if not smoke.step(
            "redress agent db upgrade", lambda: _quiet(smoke.run(*upgrade, env=agent_env))
        ):
            return

        def start_agent() -> str:
            env, args = agent_env, agent_args
            log = servers.enter_context(_server(smoke, "agent.log", *args, env=env))
            auth = {"Authorization": f"Bearer {token}"}
            return _wait_ready(f"http://127.0.0.1:{agent_port}/readyz", log, auth)

        if not smoke.step("redress agent (following the hub) -> /readyz", start_agent):
            return

        def quarantine_list() -> str:
            env = smoke.env(
                REDRESS_AGENT_URL=f"http://127.0.0.1:{agent_port}", REDRESS_AGENT_TOKEN=token
            )
            out = smoke.run("redress", "agent", "quarantine", "list", "--json", env=env).stdout
            return f"{len(json.loads(out)['quarantined'])} quarantined"

        smoke.step("redress agent quarantine list (asks the running agent)", quarantine_list)
    smoke.step("hub and agent stop cleanly", lambda: _stopped(smoke))


def add_participant(smoke: Smoke, key: list[str]) -> str:
    done = smoke.run("redress", "participant", "add", "SmokePlatform")
    last = done.stdout.strip().splitlines()[-1] if done.stdout.strip() else ""
    if not last.startswith("rk_"):
        raise StepFailedError(f"no API key on the last line:\n{done.stdout}{done.stderr}")
    key.append(last)
    return "got a platform key"


if __name__ == "__main__":
    sys.exit(main())
