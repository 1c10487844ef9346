"""The portal's MD5 and variant geometry (tests/js/portal.test.mjs) under Node's test runner,
against Python's hashlib and Pillow on the same inputs."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from PIL import Image

from redress.hashing.variants import BANK_VARIANTS
from tests.conftest import run_node_tests

SIZES = [(512, 384), (384, 512), (4032, 3024), (3024, 4032), (1000, 999), (640, 360), (7, 5)]
ROTATIONS = (-6, -4, -2, 2, 4, 6)


def _geometry() -> list[dict[str, object]]:
    sizes = []
    for width, height in SIZES:
        image = Image.new("RGB", (width, height))
        thumb = image.copy()
        thumb.thumbnail((512, 512))
        canonical = Image.new("RGB", (width, height))
        rotated = [[d, list(canonical.rotate(d, expand=True).size)] for d in ROTATIONS]
        crops = []
        for spec in BANK_VARIANTS:
            if spec.name.startswith("rotate"):
                continue
            cropped = spec.transform(canonical)
            box = _box_of(spec.name, width, height, cropped.size)
            crops.append([spec.name, box])
        sizes.append(
            {
                "size": [width, height],
                "thumbnail": list(thumb.size),
                "rotated": rotated,
                "crops": crops,
            }
        )
    return sizes


def _box_of(name: str, width: int, height: int, size: tuple[int, int]) -> list[int]:
    """The crop box, from the crop's size and the specification's placement (centred, top or
    bottom), so the test pins Python's actual output sizes."""
    w, h = size
    if name == "top85":
        return [0, 0, width, h]
    if name == "bottom85":
        return [0, height - h, width, height]
    dx, dy = (width - w) // 2, (height - h) // 2
    return [dx, dy, width - dx, height - dy]


@pytest.mark.usefixtures("node")
def test_portal_js_helpers(tmp_path: Path, reference: Path) -> None:
    files = []
    for index, path in enumerate(sorted((reference / "vpdq" / "videos").glob("*.mp4"))[:3]):
        name = f"{index}.bin"
        data = path.read_bytes()
        (tmp_path / name).write_bytes(data)
        files.append({"file": name, "md5": hashlib.md5(data).hexdigest()})
    rounding = [[x, round(x)] for x in (0.5, 1.5, 2.5, 12.8, 95.99999, 100.5, 435.2, 3.4999)]
    expected = {"files": files, "rounding": rounding, "sizes": _geometry()}
    (tmp_path / "expected.json").write_text(json.dumps(expected))
    run_node_tests("portal.test.mjs", {"PORTAL_FIXTURES": str(tmp_path)}, passes=3)
