"""Indexes against brute force, and hash-list parsing."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from redress.hashing.files import SignalRecord
from redress.hashing.signal_types import hamming_distance
from redress.matching import ExactIndex, HashListMatcher, PdqIndex, read_hash_list


def _random_hashes(rng: np.random.Generator, count: int) -> list[str]:
    return [bytes(row).hex() for row in rng.integers(0, 256, size=(count, 32), dtype=np.uint8)]


def _clustered_hashes(rng: np.random.Generator, centres: int, per: int, flips: int) -> list[str]:
    """Hashes near a few centres, as real PDQ hashes of edited copies are."""
    out = []
    for centre in _random_hashes(rng, centres):
        value = int(centre, 16)
        for _ in range(per):
            bits = rng.choice(256, size=rng.integers(0, flips + 1), replace=False)
            mask = sum(1 << int(b) for b in bits)
            out.append(f"{value ^ mask:064x}")
    return out


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), threshold=st.integers(0, 80), clustered=st.booleans())
def test_pdq_index_equals_brute_force(seed: int, threshold: int, clustered: bool) -> None:
    rng = np.random.default_rng(seed)
    if clustered:
        bank = _clustered_hashes(rng, 5, 40, 60)
        queries = _clustered_hashes(rng, 2, 5, 60) + bank[::17]
    else:
        bank = _random_hashes(rng, 200)
        queries = _random_hashes(rng, 10) + bank[:3]
    index = PdqIndex()
    assert list(index.add(bank)) == list(range(len(bank)))
    for query, hits in zip(queries, index.search(queries, threshold), strict=True):
        expected = sorted(
            (hamming_distance(query, h), i)
            for i, h in enumerate(bank)
            if hamming_distance(query, h) <= threshold
        )
        assert sorted((h.distance, h.id) for h in hits) == expected
        assert [h.distance for h in hits] == sorted(h.distance for h in hits)


def test_empty_pdq_index_finds_nothing() -> None:
    assert PdqIndex().search(["0" * 64]) == [[]]
    assert PdqIndex().search([]) == []


def test_exact_index_returns_every_id_of_a_value() -> None:
    index = ExactIndex()
    index.add(["a" * 32, "b" * 32, "a" * 32])
    assert index.search("a" * 32) == [0, 2]
    assert index.search("c" * 32) == []
    assert len(index) == 3


def test_hash_list_reads_every_format(tmp_path: Path) -> None:
    pdq = "ab" * 32
    text = tmp_path / "list.txt"
    text.write_text(
        f"{pdq}\n"
        f"PDQ\t{pdq.upper()}\tholiday photo.jpg\n"
        f"md5 {'c' * 32} label with spaces\n"
        f'{{"path": "x.jpg", "type": "pdq", "value": "{pdq}", "quality": 90, "variant": null}}\n'
        '{"path": "bad.jpg", "error": {"code": "corrupt", "message": "damaged"}}\n'
        "vpdq 0,100," + pdq + ",0.000;30,90," + pdq + ",1.000\n"
        "\n# comment\n"
        "pdq nothex\n"
        "{not json\n"
    )
    entries, problems = read_hash_list(text)
    assert [(e.type, e.line) for e in entries] == [
        ("pdq", 1),
        ("pdq", 2),
        ("md5", 3),
        ("pdq", 4),
        ("vpdq", 6),
    ]
    assert entries[1].record["label"] == "holiday photo.jpg"
    assert entries[1].value == pdq
    assert entries[2].record["label"] == "label with spaces"
    assert entries[3].record["path"] == "x.jpg"
    assert entries[4].value.count("\n") == 1
    assert [p.line for p in problems] == [9, 10]
    assert "hexadecimal" in problems[0].message
    assert "invalid JSON" in problems[1].message


def test_hash_list_reads_csv_with_header(tmp_path: Path) -> None:
    path = tmp_path / "list.csv"
    path.write_text(f"path,type,value,quality\na.jpg,pdq,{'0f' * 32},100\nb.jpg,md5,short,\n")
    entries, problems = read_hash_list(path)
    assert [e.record["path"] for e in entries] == ["a.jpg"]
    assert [p.line for p in problems] == [3]


def test_matcher_reports_each_entry_once_at_its_best_variant(tmp_path: Path) -> None:
    base = int("5a" * 32, 16)
    listed = f"{base:064x}"
    (tmp_path / "l.jsonl").write_text(json.dumps({"type": "pdq", "value": listed}) + "\n")
    entries, _ = read_hash_list(tmp_path / "l.jsonl")
    matcher = HashListMatcher(entries)
    signals = [
        SignalRecord("pdq", f"{base ^ 0b111:064x}", 100, None),  # 3 bits away
        SignalRecord("pdq", f"{base ^ 0b1:064x}", 100, "rotate90"),  # 1 bit away
    ]
    matches = matcher.match(signals)
    assert [(m.distance, m.query_variant) for m in matches] == [(1, "rotate90")]
    assert matcher.types == {"pdq"}
