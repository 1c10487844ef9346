"""Fuzz targets: the parsers that take untrusted bytes, each with the seeds it starts from.

A target's `check(data)` feeds the bytes to the parser and passes if the parser returned a valid
result or raised its documented error type; anything else (another exception, a wrong result)
raises, and the fuzzer reports the input as a crash. Seeds are valid encodings made here by the
real encoders (no files are copied in), so mutations start from inputs that get deep.

Used by tests/fuzz/fuzz_one.py (atheris), the Hypothesis fallback in tests/fuzz/run.py, and
tests/test_fuzz_regressions.py (every seed passes, and every crash found stays fixed).
"""

from __future__ import annotations

import atexit
import hashlib
import io
import json
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np

from redress.agent.hub_index import HubIndex, SnapshotError
from redress.feed.wire import (
    Block,
    WireEntry,
    WireFormatError,
    decode_block,
    encode_block,
    iter_frames,
)
from redress.hashing.errors import ErrorCode
from redress.hashing.files import HashOptions, hash_file
from redress.matching.hashlist import read_hash_list
from redress.matching.pdq_index import IndexFormatError, PdqIndex

_SCRATCH = Path(tempfile.mkdtemp(prefix="redress-fuzz-"))
atexit.register(shutil.rmtree, _SCRATCH, True)
_HEX = set("0123456789abcdef")


@dataclass(frozen=True)
class Target:
    """One parser under fuzzing."""

    name: str
    check: Callable[[bytes], None]
    seeds: Callable[[], list[bytes]]
    timeout_seconds: int = 10  # one input taking longer is a hang


def _is_hex(value: str, length: int) -> bool:
    return len(value) == length and set(value) <= _HEX


# --- media loading (redress hash, the agent's uploads) ----------------------------------------

_AGENT_OPTIONS = HashOptions(
    types=("pdq", "vpdq", "md5", "sha256"), dihedral=True, max_pixels=4_000_000, video_threads=1
)


def check_media(data: bytes) -> None:
    """`hash_file` never raises; an error must be a clear one, never `internal_error`."""
    path = _SCRATCH / "upload"
    path.write_bytes(data)
    result = hash_file(path, _AGENT_OPTIONS)
    if result.error is not None:
        assert result.error.code is not ErrorCode.INTERNAL, result.error.message
        assert result.error.message and not result.signals
        return
    assert result.signals
    for signal in result.signals:
        if signal.type == "pdq":
            assert _is_hex(signal.value, 64), signal
        elif signal.type == "md5":
            assert _is_hex(signal.value, 32), signal
        elif signal.type == "sha256":
            assert _is_hex(signal.value, 64), signal


def media_seeds() -> list[bytes]:
    """Small pictures in every still format Pillow writes here, and a tiny video."""
    from PIL import Image

    y, x = np.mgrid[0:48, 0:64]
    pixels = np.stack([x * 4, y * 5, (x + y) * 2], axis=2).astype(np.uint8)
    picture = Image.fromarray(pixels)
    seeds = []
    for fmt, extra in (
        ("PNG", {}),
        ("JPEG", {"quality": 80}),
        ("GIF", {}),
        ("BMP", {}),
        ("WEBP", {"quality": 70}),
        ("TIFF", {}),
    ):
        out = io.BytesIO()
        picture.save(out, format=fmt, **extra)
        seeds.append(out.getvalue())
    out = io.BytesIO()
    exif = Image.Exif()
    exif[0x0112] = 6  # rotated: exercises the orientation path
    picture.save(out, format="JPEG", quality=60, exif=exif)
    seeds.append(out.getvalue())
    seeds.append(_tiny_video(pixels))
    return seeds


def _tiny_video(pixels: np.ndarray) -> bytes:
    import av

    out = io.BytesIO()
    with av.open(out, mode="w", format="mp4") as container:
        stream = container.add_stream("mpeg4", rate=4)
        stream.width, stream.height = 64, 48
        stream.pix_fmt = "yuv420p"
        stream.time_base = Fraction(1, 4)
        for number in range(6):
            frame = av.VideoFrame.from_ndarray(np.roll(pixels, number * 5, axis=1), format="rgb24")
            frame.pts = number
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return out.getvalue()


# --- the feed wire format (agent <- hub) ------------------------------------------------------

_PDQ = "d8f8f0cce0f4a84f0e370a22028f67f0b36e2ed596623e1d33e6b39c4e9c9b22"
_VPDQ = f"0,100,{_PDQ},0.000\n1,90,{_PDQ},1.000"


def _sample_entries() -> list[WireEntry]:
    return [
        WireEntry(1, "add", "pdq", _PDQ, "i_a", None, "added"),
        WireEntry(2, "add", "md5", "a41771fba244b67f491b18a17251d78a", "i_b", None, "added"),
        WireEntry(3, "add", "sha256", "ab" * 32, "i_c", "crop10", "added"),
        WireEntry(4, "add", "vpdq", _VPDQ, "i_d", None, "added"),
        WireEntry(5, "remove", "pdq", _PDQ, "i_a", None, "withdrawn"),
    ]


def check_wire(data: bytes) -> None:
    """The agent's feed reader: frames out of a stream, then blocks out of frames."""
    try:
        frames = list(iter_frames(iter([data[:7], data[7:]])))
    except WireFormatError:
        frames = [data[4:]]  # also feed the bytes after the length prefix straight to the decoder
    for frame in frames:
        try:
            block = decode_block(frame)
        except WireFormatError:
            continue
        _check_block(block)


def _check_block(block: Block) -> None:
    assert len(block.op) == len(block.type) == len(block.digest) == len(block.item) == len(block)
    for entry in block.entries():
        assert entry.op in {"add", "remove"} and entry.type in {"pdq", "md5", "sha256", "vpdq"}
        assert isinstance(entry.value, str) and isinstance(entry.item, str)


def wire_seeds() -> list[bytes]:
    """Frames of a mixed block, a PDQ-only block, an empty block, and two frames in a row."""
    entries = _sample_entries()
    mixed = encode_block(entries)
    pdq_only = encode_block([entries[0], entries[0]._replace(seq=9, item="i_z")])
    return [mixed, pdq_only, encode_block([]), mixed + pdq_only]


# --- agent bank snapshots ---------------------------------------------------------------------


def check_bank_snapshot(data: bytes) -> None:
    """`HubIndex.load` returns a cursor or raises `SnapshotError`."""
    path = _SCRATCH / "bank.rdxbank"
    path.write_bytes(data)
    bank = HubIndex("fuzz")
    try:
        cursor = bank.load(path)
    except SnapshotError as exc:
        assert str(exc)
        return
    assert isinstance(cursor, int) and cursor >= 0
    assert sum(bank.counts().values()) == len(bank)


def bank_seeds() -> list[bytes]:
    """Snapshots written by `HubIndex.save` (empty, and with every signal type)."""
    seeds = []
    for entries in ([], _sample_entries()):
        bank = HubIndex("seed")
        if entries:
            bank.apply(decode_block(encode_block(entries)[4:]))
        seeds.append(bank.save(_SCRATCH / f"seed-{len(entries)}", cursor=len(entries)).read_bytes())
    return seeds


# --- PDQ index snapshots ----------------------------------------------------------------------


def check_pdq_index(data: bytes) -> None:
    """`PdqIndex.load` returns an index or raises `IndexFormatError`. Inputs whose first byte is
    odd get a correct checksum appended, so mutations reach the parsing behind the checksum."""
    if data and data[0] % 2:
        data = data[1:] + hashlib.sha256(data[1:]).digest()
    path = _SCRATCH / "index.pdqix"
    path.write_bytes(data)
    try:
        index = PdqIndex.load(path, background=False)
    except IndexFormatError as exc:
        assert str(exc)
        return
    assert 0 <= len(index) <= index.total_ids
    for id_ in range(min(index.total_ids, 4)):
        if index.is_live(id_):
            assert _is_hex(index.hash_of(id_), 64)


def pdq_index_seeds() -> list[bytes]:
    """Snapshots written by `PdqIndex.save`, raw and in the checksum-appending form."""
    seeds = []
    for hashes, removed in (([], []), ([_PDQ, "ab" * 32, "0f" * 32], [1])):
        index = PdqIndex(background=False)
        index.add(hashes)
        index.remove(removed)
        path = _SCRATCH / "seed.pdqix"
        index.save(path)
        raw = path.read_bytes()
        seeds += [b"\x00" + raw, b"\x01" + raw[:-32]]
    return seeds


# --- hash lists (redress match --against) -----------------------------------------------------


def check_hash_list(data: bytes) -> None:
    """`read_hash_list` returns entries and problems, or raises its documented `OSError` /
    `UnicodeDecodeError`; every entry it returns is a normalised valid signal."""
    path = _SCRATCH / "list.txt"
    path.write_bytes(data)
    try:
        entries, problems = read_hash_list(path)
    except UnicodeDecodeError:
        return
    for entry in entries:
        assert entry.type in {"pdq", "md5", "sha256", "vpdq"}, entry
        assert entry.value and isinstance(entry.record, dict), entry
        assert entry.line >= 1
    for problem in problems:
        assert problem.line >= 1 and problem.message


def hash_list_seeds() -> list[bytes]:
    """A list in each accepted form: TYPE VALUE lines, bare hashes, JSONL and CSV."""
    jsonl = "\n".join(
        json.dumps({"path": "a.jpg", "type": t, "value": v, "quality": 100, "variant": None})
        for t, v in (("pdq", _PDQ), ("md5", "a41771fba244b67f491b18a17251d78a"))
    )
    return [
        f"# comment\npdq {_PDQ} holiday.jpg\nmd5\ta41771fba244b67f491b18a17251d78a\tx\n".encode(),
        f"{_PDQ}\na41771fba244b67f491b18a17251d78a\n\n".encode(),
        f"vpdq {_VPDQ.replace(chr(10), ';')}\nsha256 {'ab' * 32}\n".encode(),
        (jsonl + '\n{"path": "b.jpg", "error": {"code": "corrupt"}}\n').encode(),
        (
            "path,type,value,quality,variant,error_code,error_message,warnings\n"
            f"a.jpg,pdq,{_PDQ},100,,,,\nb.jpg,,,,,corrupt,bad,\n"
        ).encode(),
        "\ufeffpdq ".encode() + _PDQ.encode() + b"\r\n",
    ]


TARGETS = {
    target.name: target
    for target in (
        Target("media", check_media, media_seeds, timeout_seconds=30),
        Target("wire", check_wire, wire_seeds),
        Target("bank_snapshot", check_bank_snapshot, bank_seeds),
        Target("pdq_index", check_pdq_index, pdq_index_seeds),
        Target("hash_list", check_hash_list, hash_list_seeds),
    )
}
