"""The robustness harness on a small generated corpus: it must tell a method that handles an
edit from one that does not, and count false matches."""

from __future__ import annotations

from pathlib import Path

from PIL import Image

from redress.robustness import EDITS, METHODS, CorpusImage, load_corpus
from redress.robustness.harness import run_harness
from tests.conftest import textured_image


def _corpus() -> list[CorpusImage]:
    return [
        CorpusImage(f"gen:{seed}", "generated", textured_image(480, 360, seed=seed))
        for seed in range(3)
    ]


def test_every_edit_produces_a_different_picture() -> None:
    picture = textured_image(400, 300)
    for edit in EDITS.values():
        edited = edit.apply(picture)
        assert isinstance(edited, Image.Image)
        if edit.name != "jpeg50":  # the JPEG edit happens when saving
            assert edited.tobytes() != picture.tobytes() or edited.size != picture.size, edit.name


def test_harness_separates_plain_pdq_from_redress_matching() -> None:
    edits = [EDITS["jpeg50"], EDITS["flip"], EDITS["rotate90"]]
    plain, ours = run_harness(_corpus(), [METHODS["plain"], METHODS["redress"]], edits=edits)
    assert plain.recall == {"jpeg50": 1.0, "flip": 0.0, "rotate90": 0.0}
    assert ours.recall == {"jpeg50": 1.0, "flip": 1.0, "rotate90": 1.0}
    assert plain.false_matches == ours.false_matches == 0
    assert ours.distinct_pairs == 3 * 3 * 2
    assert ours.query_hashes_per_copy >= 10.0  # 8 orientations + top/bottom 85 %
    assert ours.bank_hashes_per_image == 14.0
    assert plain.misses["flip"] == ["gen:0", "gen:1", "gen:2"]


def test_harness_counts_a_duplicate_as_a_false_match() -> None:
    corpus = _corpus()
    twin = CorpusImage("gen:twin", "generated", corpus[0].image.copy())
    plain = run_harness([*corpus, twin], [METHODS["plain"]], edits=[EDITS["jpeg50"]])[0]
    assert plain.false_matches == 2  # the twin's copy matches the original and vice versa
    assert plain.margin["min"] <= 31


def test_corpus_keeps_only_trustworthy_reference_photos(reference: Path) -> None:
    corpus = load_corpus(reference, include_skimage=False)
    ids = {item.id for item in corpus}
    assert "ref:aaa-orig" in ids
    assert "ref:q0003" not in ids  # PDQ quality 3: too flat to match on
    assert all(max(item.image.size) <= 1600 for item in corpus)
