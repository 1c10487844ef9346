"""Shared fixtures. Meta's reference files are read in place from ../shared/reference (beside the
clone, as CI has it) through the one `reference` fixture; tests that need them skip without it."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

REPO = Path(__file__).resolve().parents[1]
_REFERENCE = Path(
    os.environ.get("REDRESS_REFERENCE_DIR", REPO.parent / "shared" / "reference")
).resolve()


@pytest.fixture(scope="session")
def reference() -> Path:
    """The reference data folder (Meta's PDQ/vPDQ test vectors and sample media)."""
    if not (_REFERENCE / "pdq" / "expected-bridge-mods.csv").is_file():
        pytest.skip(
            f"reference data not found at {_REFERENCE}: put the shared/ folder beside the "
            "clone or set REDRESS_REFERENCE_DIR"
        )
    return _REFERENCE


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
