"""The README's figure blocks are what bench/readme_figures.py renders from the committed
bench/out/*.json (no bench is run here): a hand-typed or stale figure, or a missing result file,
fails."""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path
from types import ModuleType

import pytest

REPO = Path(__file__).resolve().parents[1]


def load_generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "readme_figures", REPO / "bench/readme_figures.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


figures = load_generator()


@pytest.fixture
def readme() -> str:
    return (REPO / "README.md").read_text()


def test_every_block_matches_the_committed_results(readme: str) -> None:
    assert figures.problems(readme) == []
    assert set(figures.RENDERERS) <= {m["name"] for m in figures.BLOCK.finditer(readme)}


@pytest.mark.parametrize("name", sorted(load_generator().RENDERERS))
def test_a_hand_edited_figure_is_caught(readme: str, name: str) -> None:
    body = figures.render(name)
    digit = next(index for index, char in enumerate(body) if char.isdigit())
    edited = body[:digit] + str((int(body[digit]) + 1) % 10) + body[digit + 1 :]
    tampered = readme.replace(body, edited, 1)
    assert tampered != readme
    found = figures.problems(tampered)
    assert len(found) == 1 and f"figures:{name} differs" in found[0]
    # --write puts the rendered figures back.
    assert figures.rewritten(tampered) == readme


@pytest.mark.parametrize(
    "name", ["agent", "robustness", "attacks_agent", "attacks_agent_before", "limit_costs"]
)
def test_a_missing_result_file_is_caught(readme: str, tmp_path: Path, name: str) -> None:
    out = tmp_path / "out"
    shutil.copytree(figures.OUT, out)
    (out / f"{name}.json").unlink()
    found = figures.problems(readme, out)
    assert any(f"{name}.json" in line and "missing" in line for line in found), found
    assert figures.problems(readme, figures.OUT) == []


def test_a_removed_block_and_an_unknown_block_are_caught(readme: str) -> None:
    start, end = "<!-- figures:agent -->\n", "<!-- /figures:agent -->\n"
    without = readme[: readme.index(start)] + readme[readme.index(end) + len(end) :]
    assert figures.problems(without) == ["README.md has no <!-- figures:agent --> block"]
    unknown = readme + "<!-- figures:nosuch -->\n1 M/s\n<!-- /figures:nosuch -->\n"
    assert figures.problems(unknown) == [
        "README.md block figures:nosuch has no renderer in bench/readme_figures.py"
    ]
