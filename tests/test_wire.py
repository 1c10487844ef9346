"""The compact feed format (`redress.feed.wire`): every check of the decoder refuses its own kind of
damage with its own message, and the encoder's limits hold."""

from __future__ import annotations

import struct

import numpy as np
import pytest
import zstandard

from redress.feed.wire import (
    MAGIC,
    WireEntry,
    WireFormatError,
    decode_block,
    encode_block,
    iter_frames,
)

PDQ = "ab" * 32
ENTRIES = [
    WireEntry(1, "add", "pdq", PDQ, "i_1", "rot90", "added"),
    WireEntry(2, "add", "md5", "cd" * 16, "i_2", None, "added"),
    WireEntry(
        3, "add", "vpdq", f"0,100,{'ef' * 32},0.000\n30,90,{'ef' * 32},1.000", "i_3", None, "added"
    ),
    WireEntry(9, "remove", "sha256", "01" * 32, "i 4", None, "withdrawn"),
]


def body_of(entries) -> bytes:  # type: ignore[no-untyped-def]
    """The decompressed block the encoder writes."""
    frame = encode_block(entries)
    (length,) = struct.unpack_from("<I", frame)
    assert length == len(frame) - 4
    return zstandard.ZstdDecompressor().decompress(frame[4:])


def decode_body(body: bytes):  # type: ignore[no-untyped-def]
    return decode_block(zstandard.ZstdCompressor().compress(body))


def refused(body: bytes) -> str:
    with pytest.raises(WireFormatError) as caught:
        decode_body(body)
    return str(caught.value)


def test_round_trip_keeps_every_field_and_the_columns() -> None:
    block = decode_body(body_of(ENTRIES))
    assert list(block.entries()) == ENTRIES
    assert block.strings == ["", "added", "withdrawn", "rot90"]  # reasons, then variants
    assert block.seq.dtype == np.int64
    assert [block.value(row) for row in range(4)] == [e.value for e in ENTRIES]
    assert block.digest[1, 16:].tolist() == [0] * 16  # md5 fills the first 16 bytes


def test_large_sequence_numbers_survive_exactly() -> None:
    seq = 2**60 + 1  # beyond float precision
    block = decode_body(body_of([WireEntry(seq, "add", "pdq", PDQ, "i", None, "added")]))
    assert int(block.seq[0]) == seq


def test_pdq_only_blocks_take_the_fast_path_correctly() -> None:
    values = [f"{i:02x}" * 32 for i in range(5)]
    entries = [WireEntry(i, "add", "pdq", v, f"i_{i}", None, "added") for i, v in enumerate(values)]
    block = decode_body(body_of(entries))
    assert [e.value for e in block.entries()] == values


def test_an_empty_block_round_trips() -> None:
    body = body_of([])
    assert body == MAGIC + struct.pack("<II", 0, 2) + b"\x1d\x1d"
    block = decode_body(body)
    assert len(block) == 0 and list(block.entries()) == [] and block.strings == [""]


def test_at_most_255_distinct_strings_per_block() -> None:
    entries = [WireEntry(i, "add", "pdq", PDQ, "i", None, f"r{i}") for i in range(255)]
    assert [e.reason for e in decode_body(body_of(entries)).entries()] == [
        f"r{i}" for i in range(255)
    ]
    entries.append(WireEntry(999, "add", "pdq", PDQ, "i", None, "one too many"))
    with pytest.raises(ValueError) as caught:
        encode_block(entries)
    assert str(caught.value) == "more than 255 distinct reasons and variants in one block"


def test_each_check_refuses_its_own_damage() -> None:
    good = body_of(ENTRIES)
    head = struct.Struct("<8sII")
    _, count, text_len = head.unpack_from(good)
    columns = 16 + 8 * count  # the op column starts here
    kind_at, reason_at, variant_at = columns + count, columns + 2 * count, columns + 3 * count

    def patched(at: int, value: int) -> bytes:
        return good[:at] + bytes([value]) + good[at + 1 :]

    assert refused(good[:15]) == "block too short"
    assert refused(b"RDXFEED1" + good[8:]) == (
        "not a Redress feed block of this version (bad magic)"
    )
    assert refused(good + b"x") == f"block is {len(good) + 1} bytes, expected {len(good)}"
    assert refused(good[:-1]) == f"block is {len(good) - 1} bytes, expected {len(good)}"
    assert refused(patched(kind_at, 4)) == "unknown signal type code"
    assert refused(patched(reason_at, 4)) == "string code out of range"
    assert refused(patched(variant_at, 4)) == "string code out of range"
    text = good[-text_len:]
    prefix = good[:-text_len]
    assert refused(prefix + text.replace(b"\x1d", b"\x1f", 1)) == "text section is not three parts"
    fewer_items = text.replace(b"\x1ei 4", b"", 1)
    fixed = prefix[:12] + struct.pack("<I", len(fewer_items)) + prefix[16:]
    assert refused(fixed + fewer_items) == (
        "text section does not hold one item reference per entry"
    )
    more_videos = text + b"\x1e0,100," + b"ef" * 32 + b",1.0"
    fixed = prefix[:12] + struct.pack("<I", len(more_videos)) + prefix[16:]
    assert refused(fixed + more_videos) == "vPDQ section does not match the vpdq entries"


def test_a_header_alone_is_not_too_short_but_incomplete() -> None:
    # 16 bytes: a complete header for an empty block with no text at all.
    assert refused(MAGIC + struct.pack("<II", 0, 0)) == "text section is not three parts"


def test_rows_of_the_wrong_shape_are_refused() -> None:
    row = tuple(ENTRIES[0])
    for bad in ([row, (*row, "extra")], [row, row[:-1]]):
        with pytest.raises(ValueError, match="zip"):
            encode_block(bad)


def test_frames_are_cut_from_any_pieces_and_a_cut_stream_is_named() -> None:
    frames = [encode_block(ENTRIES[:2]), encode_block(ENTRIES[2:])]
    stream = b"".join(frames)
    pieces = [stream[i : i + 3] for i in range(0, len(stream), 3)]
    assert [len(f) + 4 for f in iter_frames(iter(pieces))] == [len(f) for f in frames]
    assert list(iter_frames(iter([b"\0\0\0\0"]))) == [b""]  # an empty frame, exactly 4 bytes
    with pytest.raises(WireFormatError) as caught:
        list(iter_frames(iter([stream[:-1]])))
    assert str(caught.value) == "the stream ended inside a frame (connection cut?)"
