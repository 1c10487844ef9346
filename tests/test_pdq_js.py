"""pdq.js (the in-browser PDQ) against Meta's reference code, under Node's test runner, on the
pixel arrays of the reference photos."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from redress.hashing import load_image, pdq_from_pixels
from tests.conftest import run_node_tests, textured_image


@pytest.mark.usefixtures("node")
def test_pdq_js_agrees_with_pdqhash(reference: Path, tmp_path: Path) -> None:
    photos = sorted(reference.glob("pdq/bridge-mods/*.jpg")) + sorted(
        reference.glob("pdq/reg-test-input/**/*.jpg")
    )
    cases = [(photo.name, load_image(photo).pixels) for photo in photos]
    # Odd sizes and full-resolution arrays too, where the box filter windows are largest.
    cases.append(("generated-301x203", np.asarray(textured_image(301, 203, seed=1))))
    cases.append(
        (
            "bridge-full",
            load_image(reference / "pdq/bridge-mods/aaa-orig.jpg", reduce_to=None).pixels,
        )
    )
    expected = []
    for index, (name, pixels) in enumerate(cases):
        file = f"{index:03d}.rgb"
        (tmp_path / file).write_bytes(pixels.tobytes())
        digest = pdq_from_pixels(pixels)
        expected.append(
            {
                "name": name,
                "file": file,
                "width": int(pixels.shape[1]),
                "height": int(pixels.shape[0]),
                "hash": digest.value,
                "quality": digest.quality,
            }
        )
    (tmp_path / "expected.json").write_text(json.dumps(expected))
    run_node_tests("pdq.test.mjs", {"PDQ_FIXTURES": str(tmp_path)}, passes=3)
