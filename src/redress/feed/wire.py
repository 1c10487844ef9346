"""The compact feed format (`GET /v1/feed.bin`): columnar blocks, each its own zstd frame.

A response is a sequence of frames, each ``uint32 LE length`` + a zstd-compressed block, so a
reader decodes block by block as bytes arrive. A decompressed block (integers little-endian):

    magic     8 bytes  b"RDXFEED2"
    count     uint32   entries in the block (n)
    text_len  uint32   bytes of the text section
    seq       n x uint64
    op        n x uint8     0 = add, 1 = remove
    type      n x uint8     0 = pdq, 1 = md5, 2 = sha256, 3 = vpdq
    reason    n x uint8     index into the block's string table
    variant   n x uint8     index into the string table, 0 = none (the original)
    digest    n x 32 bytes  pdq/sha256 as is, md5 in the first 16 bytes, zeros for vpdq
    text      UTF-8, three sections separated by 0x1d: the string table (0x1f between
              strings; entry 0 is empty), the item references (0x1e between them, one per
              entry), the vPDQ values of the vpdq entries in order (0x1e between them)

Fixed-width columns let a reader hand digests straight to an index as one array and split the
text once per block; specified in docs/feed-format.md.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
import zstandard

MAGIC = b"RDXFEED2"
_HEAD = struct.Struct("<8sII")
_FRAME = struct.Struct("<I")
TYPES = ("pdq", "md5", "sha256", "vpdq")
_TYPE_CODE = {name: code for code, name in enumerate(TYPES)}
_RECORD, _FIELD, _SECTION = "\x1e", "\x1f", "\x1d"
MEDIA_TYPE = "application/vnd.redress.feed+zstd"
# A full block (65,536 entries) is about 3 MB plus its item references; refuse anything that
# would decompress past this, so a hostile or broken frame cannot exhaust the agent's memory.
MAX_BLOCK_BYTES = 256 * 2**20


class WireFormatError(ValueError):
    """Bytes that are not a feed block this version can read."""


class WireEntry(NamedTuple):
    """One feed entry as the hub writes it (value in its text form). A plain tuple, so rows
    straight from the database encode without conversion."""

    seq: int
    op: str
    type: str
    value: str
    item: str
    variant: str | None
    reason: str


@dataclass(frozen=True, slots=True)
class Block:
    """A decoded block: columns as arrays, item references as a list."""

    seq: np.ndarray
    op: np.ndarray
    type: np.ndarray
    reason_code: np.ndarray
    variant_code: np.ndarray
    digest: np.ndarray  # (n, 32) uint8
    strings: list[str]
    item: list[str]
    vpdq: dict[int, str]  # row -> vPDQ text

    def __len__(self) -> int:
        return len(self.seq)

    def value(self, row: int) -> str:
        """The signal value of `row` in its text form."""
        kind = TYPES[int(self.type[row])]
        if kind == "vpdq":
            return self.vpdq[row]
        size = 16 if kind == "md5" else 32
        return bytes(self.digest[row, :size]).hex()

    def entries(self) -> Iterator[WireEntry]:
        """Rows as `WireEntry` objects (convenient, slower than the columns)."""
        for row in range(len(self)):
            variant = int(self.variant_code[row])
            yield WireEntry(
                int(self.seq[row]),
                "remove" if self.op[row] else "add",
                TYPES[int(self.type[row])],
                self.value(row),
                self.item[row],
                self.strings[variant] if variant else None,
                self.strings[int(self.reason_code[row])],
            )


def encode_block(entries: Sequence[WireEntry] | Sequence[tuple[Any, ...]], level: int = 3) -> bytes:
    """One frame (length prefix + zstd block) holding `entries` (`WireEntry`s or tuples in its
    field order)."""
    count = len(entries)
    strings: dict[str, int] = {"": 0}

    def code(text: str | None) -> int:
        if not text:
            return 0
        found = strings.get(text)
        if found is None:
            if len(strings) == 256:
                raise ValueError("more than 255 distinct reasons and variants in one block")
            found = strings[text] = len(strings)
        return found

    if count:
        seqs, ops, types, values, items, variants, reasons = zip(*entries, strict=True)
    else:
        seqs = ops = types = values = items = variants = reasons = ()
    seq = np.fromiter(seqs, dtype="<u8", count=count)
    op = np.fromiter((o == "remove" for o in ops), dtype=np.uint8, count=count)
    kind = np.fromiter(map(_TYPE_CODE.__getitem__, types), dtype=np.uint8, count=count)
    reason = np.fromiter(map(code, reasons), dtype=np.uint8, count=count)
    variant = np.fromiter(map(code, variants), dtype=np.uint8, count=count)
    digests = np.zeros((count, 32), dtype=np.uint8)
    if count and not kind.any():  # the common block: PDQ only
        digests[:] = np.frombuffer(bytes.fromhex("".join(values)), np.uint8).reshape(-1, 32)
    else:
        for name, size in (("pdq", 32), ("sha256", 32), ("md5", 16)):
            rows = np.flatnonzero(kind == _TYPE_CODE[name])
            if len(rows):
                joined = "".join(values[row] for row in rows.tolist())
                digests[rows, :size] = np.frombuffer(bytes.fromhex(joined), np.uint8).reshape(
                    -1, size
                )
    videos = [values[row] for row in np.flatnonzero(kind == _TYPE_CODE["vpdq"]).tolist()]
    text = _SECTION.join(
        (
            _FIELD.join(strings),
            _RECORD.join(items),
            _RECORD.join(videos),
        )
    ).encode()
    body = b"".join(
        (
            _HEAD.pack(MAGIC, count, len(text)),
            seq.tobytes(),
            op.tobytes(),
            kind.tobytes(),
            reason.tobytes(),
            variant.tobytes(),
            digests.tobytes(),
            text,
        )
    )
    compressed = zstandard.ZstdCompressor(level=level).compress(body)
    return _FRAME.pack(len(compressed)) + compressed


def decode_block(compressed: bytes) -> Block:
    """A block from one zstd frame (without its length prefix).

    Raises `WireFormatError` for anything that is not a block this version wrote; a frame that
    would decompress to more than `MAX_BLOCK_BYTES` is refused before it is decompressed.
    """
    try:
        size = zstandard.frame_content_size(compressed)
        if size > MAX_BLOCK_BYTES:
            raise WireFormatError(
                f"block would decompress to {size} bytes, more than {MAX_BLOCK_BYTES}"
            )
        # A frame that does not state its size is decompressed up to the bound, no further.
        body = zstandard.ZstdDecompressor().decompress(compressed, max_output_size=MAX_BLOCK_BYTES)
    except zstandard.ZstdError as exc:
        raise WireFormatError(f"not a zstd frame: {exc}") from None
    if len(body) < _HEAD.size:
        raise WireFormatError("block too short")
    magic, count, text_len = _HEAD.unpack_from(body)
    if magic != MAGIC:
        raise WireFormatError("not a Redress feed block of this version (bad magic)")
    at = _HEAD.size
    need = at + count * (8 + 4 + 32) + text_len
    if len(body) != need:
        raise WireFormatError(f"block is {len(body)} bytes, expected {need}")
    seq = np.frombuffer(body, dtype="<u8", count=count, offset=at).astype(np.int64)
    at += 8 * count
    columns = []
    for _ in range(4):
        columns.append(np.frombuffer(body, dtype=np.uint8, count=count, offset=at))
        at += count
    op, kind, reason, variant = columns
    digest = np.frombuffer(body, dtype=np.uint8, count=32 * count, offset=at).reshape(count, 32)
    at += 32 * count
    try:
        sections = body[at:].decode().split(_SECTION)
    except UnicodeDecodeError as exc:
        raise WireFormatError(f"text section is not UTF-8 ({exc.reason})") from None
    if len(sections) != 3:
        raise WireFormatError("text section is not three parts")
    strings = sections[0].split(_FIELD)
    items = sections[1].split(_RECORD) if count else []
    if len(items) != count:
        raise WireFormatError("text section does not hold one item reference per entry")
    if int(kind.max(initial=0)) >= len(TYPES):
        raise WireFormatError("unknown signal type code")
    if max(int(reason.max(initial=0)), int(variant.max(initial=0))) >= len(strings):
        raise WireFormatError("string code out of range")
    video_rows = np.flatnonzero(kind == _TYPE_CODE["vpdq"]).tolist()
    videos = sections[2].split(_RECORD) if video_rows else []
    if len(videos) != len(video_rows):
        raise WireFormatError("vPDQ section does not match the vpdq entries")
    return Block(
        seq,
        op,
        kind,
        reason,
        variant,
        digest,
        strings,
        items,
        dict(zip(video_rows, videos, strict=True)),
    )


def iter_frames(chunks: Iterator[bytes]) -> Iterator[bytes]:
    """Compressed frames out of a byte stream that arrives in arbitrary pieces."""
    buffer = bytearray()
    for chunk in chunks:
        buffer += chunk
        while len(buffer) >= _FRAME.size:
            (length,) = _FRAME.unpack_from(buffer)
            if len(buffer) < _FRAME.size + length:
                break
            yield bytes(buffer[_FRAME.size : _FRAME.size + length])
            del buffer[: _FRAME.size + length]
    if buffer:
        raise WireFormatError("the stream ended inside a frame (connection cut?)")
