"""What fuzzing the parsers found, kept fixed: every crashing input saved under
tests/fuzz/regressions/TARGET/ now gets a valid result or the parser's documented error, and so
does every generated seed; plus one plain test per fix saying what the parser now does."""

from __future__ import annotations

import json
import struct
from pathlib import Path

import pytest
import zstandard

from redress.agent.hub_index import HubIndex, SnapshotError
from redress.feed import wire
from redress.feed.wire import MAGIC, WireFormatError, decode_block
from redress.hashing.errors import ErrorCode
from redress.hashing.files import HashOptions, hash_file
from redress.matching.hashlist import read_hash_list
from tests.fuzz.targets import TARGETS

REGRESSIONS = Path(__file__).parent / "fuzz" / "regressions"
SAVED = sorted(p for p in REGRESSIONS.rglob("*") if p.is_file())


@pytest.mark.parametrize("name", sorted(TARGETS))
def test_every_seed_passes_its_harness(name: str) -> None:
    target = TARGETS[name]
    seeds = target.seeds()
    assert seeds
    for seed in seeds:
        target.check(seed)


@pytest.mark.parametrize("path", SAVED, ids=[f"{p.parent.name}/{p.name}" for p in SAVED])
def test_saved_crash_inputs_now_pass(path: Path) -> None:
    TARGETS[path.parent.name].check(path.read_bytes())


def _block(body: bytes, **options: bool) -> bytes:
    return zstandard.ZstdCompressor(**options).compress(body)


def test_a_block_whose_text_is_not_utf8_is_a_wire_format_error() -> None:
    head = struct.pack("<8sII", MAGIC, 0, 3)
    with pytest.raises(WireFormatError, match="not UTF-8"):
        decode_block(_block(head + b"\xf0\x1d\x1d"))


def test_a_block_claiming_a_huge_size_is_refused_before_decompressing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(wire, "MAX_BLOCK_BYTES", 1000)
    stated = _block(b"\0" * 1001)
    with pytest.raises(WireFormatError, match="would decompress to 1001 bytes, more than 1000"):
        decode_block(stated)
    unstated = _block(b"\0" * 1001, write_content_size=False)
    with pytest.raises(WireFormatError, match="not a zstd frame"):
        decode_block(unstated)  # no size stated: stopped at the bound while decompressing
    decode_block(_block(struct.pack("<8sII", MAGIC, 0, 2) + b"\x1d\x1d"))  # small: fine


@pytest.mark.parametrize(
    ("header", "message"),
    [
        (b"not json\n", "no JSON header"),
        (b"[1, 2]\n", "header is not an object"),
        (b"\xff\xfe\n", "no JSON header"),
        (b"[" * 100_000 + b"\n", "no JSON header"),
        (json.dumps({"format": 1, "cursor": "7", "entries": 0}).encode() + b"\n", "'cursor'"),
        (json.dumps({"format": 1, "cursor": 7, "entries": -1}).encode() + b"\n", "'entries'"),
        (json.dumps({"format": 2, "cursor": 7, "entries": 0}).encode() + b"\n", "format 2"),
        (json.dumps({"format": 1, "cursor": 7, "entries": 3}).encode() + b"\n", "header says 3"),
    ],
)
def test_a_damaged_bank_snapshot_is_a_snapshot_error(
    tmp_path: Path, header: bytes, message: str
) -> None:
    path = tmp_path / "hub-7.rdxbank"
    path.write_bytes(header)
    with pytest.raises(SnapshotError, match=message):
        HubIndex("hub").load(path)


def test_a_bank_snapshot_with_a_damaged_block_is_a_snapshot_error(tmp_path: Path) -> None:
    path = tmp_path / "hub-7.rdxbank"
    header = json.dumps({"format": 1, "cursor": 7, "entries": 1}).encode() + b"\n"
    path.write_bytes(header + struct.pack("<I", 5) + b"junk!")
    with pytest.raises(SnapshotError, match="damaged after 0 entries: not a zstd frame"):
        HubIndex("hub").load(path)


def test_a_hash_list_with_absurdly_nested_json_is_one_problem(tmp_path: Path) -> None:
    path = tmp_path / "list.jsonl"
    pdq = "d8f8f0cce0f4a84f0e370a22028f67f0b36e2ed596623e1d33e6b39c4e9c9b22"
    path.write_text('{"a": ' + "[" * 100_000 + "\n" + f"pdq {pdq}\n")
    entries, problems = read_hash_list(path)
    assert [e.value for e in entries] == [pdq]
    assert [(p.line, p.message) for p in problems] == [(1, "invalid JSON (nested too deeply)")]


def test_a_video_stream_without_a_decoder_is_unsupported_not_internal() -> None:
    saved = REGRESSIONS / "media" / "video-stream-without-decoder.mp4"
    result = hash_file(saved, HashOptions(types=("vpdq",)))
    assert result.error is not None
    assert result.error.code is ErrorCode.UNSUPPORTED_FORMAT
    assert "cannot be decoded here" in result.error.message


def test_a_csv_hash_list_with_an_oversized_field_reports_that_row(tmp_path: Path) -> None:
    path = tmp_path / "list.csv"
    pdq = "d8f8f0cce0f4a84f0e370a22028f67f0b36e2ed596623e1d33e6b39c4e9c9b22"
    path.write_text(f"type,value\npdq,{'a' * 200_000}\npdq,{pdq}\n")
    entries, problems = read_hash_list(path)
    assert [e.value for e in entries] == [pdq]
    assert len(problems) == 1 and problems[0].line == 2
    assert "unreadable CSV row (field larger than field limit" in problems[0].message
