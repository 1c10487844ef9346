"""The compact feed format (`GET /v1/feed.bin`): columnar blocks, each its own zstd frame.

A response is a sequence of frames, each ``uint32 LE length`` + a zstd-compressed block, so a
reader decodes block by block as bytes arrive. A decompressed block (all integers little-endian):

    magic     8 bytes  b"RDXFEED1"
    count     uint32   entries in the block (n)
    text_len  uint32   bytes of the text section
    seq       n x uint64
    op        n x uint8     0 = add, 1 = remove
    type      n x uint8     0 = pdq, 1 = md5, 2 = sha256, 3 = vpdq
    digest    n x 32 bytes  pdq/sha256 as is, md5 in the first 16 bytes, zeros for vpdq
    text      UTF-8, one record per entry separated by 0x1e:
              item_ref 0x1f variant 0x1f reason [0x1f vpdq text, for vpdq entries]

Fixed-width columns let a reader hand the PDQ digests straight to the index as one array; the
text carries what is variable. Specified in docs/feed-format.md.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import zstandard

MAGIC = b"RDXFEED1"
_HEAD = struct.Struct("<8sII")
_FRAME = struct.Struct("<I")
TYPES = ("pdq", "md5", "sha256", "vpdq")
_TYPE_CODE = {name: code for code, name in enumerate(TYPES)}
_RECORD, _FIELD = "\x1e", "\x1f"
MEDIA_TYPE = "application/vnd.redress.feed+zstd"


class WireFormatError(ValueError):
    """Bytes that are not a feed block this version can read."""


@dataclass(frozen=True, slots=True)
class WireEntry:
    """One feed entry as the hub writes it (value in its text form)."""

    seq: int
    op: str
    type: str
    value: str
    item: str
    variant: str | None
    reason: str


@dataclass(frozen=True, slots=True)
class Block:
    """A decoded block: columns as arrays, text fields as lists."""

    seq: np.ndarray
    op: np.ndarray
    type: np.ndarray
    digest: np.ndarray  # (n, 32) uint8
    item: list[str]
    variant: list[str | None]
    reason: list[str]
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
            yield WireEntry(
                int(self.seq[row]),
                "remove" if self.op[row] else "add",
                TYPES[int(self.type[row])],
                self.value(row),
                self.item[row],
                self.variant[row],
                self.reason[row],
            )


def encode_block(entries: Sequence[WireEntry], level: int = 3) -> bytes:
    """One frame (length prefix + zstd block) holding `entries`."""
    count = len(entries)
    seq = np.fromiter((e.seq for e in entries), dtype="<u8", count=count)
    op = np.fromiter((e.op == "remove" for e in entries), dtype=np.uint8, count=count)
    kind = np.fromiter((_TYPE_CODE[e.type] for e in entries), dtype=np.uint8, count=count)
    digests = bytearray(32 * count)
    records = []
    for row, entry in enumerate(entries):
        fields = [entry.item, entry.variant or "", entry.reason]
        if entry.type == "vpdq":
            fields.append(entry.value)
        else:
            raw = bytes.fromhex(entry.value)
            digests[32 * row : 32 * row + len(raw)] = raw
        records.append(_FIELD.join(fields))
    text = _RECORD.join(records).encode()
    raw_block = b"".join(
        (_HEAD.pack(MAGIC, count, len(text)), seq.tobytes(), op.tobytes(), kind.tobytes()),
    )
    body = raw_block + bytes(digests) + text
    compressed = zstandard.ZstdCompressor(level=level).compress(body)
    return _FRAME.pack(len(compressed)) + compressed


def decode_block(compressed: bytes) -> Block:
    """A block from one zstd frame (without its length prefix)."""
    try:
        body = zstandard.ZstdDecompressor().decompress(compressed)
    except zstandard.ZstdError as exc:
        raise WireFormatError(f"not a zstd frame: {exc}") from None
    if len(body) < _HEAD.size:
        raise WireFormatError("block too short")
    magic, count, text_len = _HEAD.unpack_from(body)
    if magic != MAGIC:
        raise WireFormatError("not a Redress feed block (bad magic)")
    at = _HEAD.size
    need = at + count * (8 + 1 + 1 + 32) + text_len
    if len(body) != need:
        raise WireFormatError(f"block is {len(body)} bytes, expected {need}")
    seq = np.frombuffer(body, dtype="<u8", count=count, offset=at).astype(np.int64)
    at += 8 * count
    op = np.frombuffer(body, dtype=np.uint8, count=count, offset=at)
    at += count
    kind = np.frombuffer(body, dtype=np.uint8, count=count, offset=at)
    at += count
    digest = np.frombuffer(body, dtype=np.uint8, count=32 * count, offset=at).reshape(count, 32)
    at += 32 * count
    text = body[at:].decode()
    records = text.split(_RECORD) if count else []
    if len(records) != count:
        raise WireFormatError("text section does not hold one record per entry")
    items: list[str] = []
    variants: list[str | None] = []
    reasons: list[str] = []
    vpdq: dict[int, str] = {}
    for row, record in enumerate(records):
        fields = record.split(_FIELD)
        items.append(fields[0])
        variants.append(fields[1] or None)
        reasons.append(fields[2])
        if len(fields) > 3:
            vpdq[row] = fields[3]
    if int(kind.max(initial=0)) >= len(TYPES):
        raise WireFormatError("unknown signal type code")
    return Block(seq, op, kind, digest, items, variants, reasons, vpdq)


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
