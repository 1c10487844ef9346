"""One hub's signals in memory: a `PdqIndex`, exact indexes, a `VpdqIndex`, and for every
indexed signal the opaque item references the hub gave it. Applies feed blocks in order;
applying the same entries twice changes nothing (so a restart may safely replay the feed)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from redress.hashing.signal_types import VpdqSignal
from redress.matching import ExactIndex, PdqIndex, VpdqIndex
from redress.wire import TYPES, Block, WireEntry, decode_block, encode_block, iter_frames

_PDQ, _MD5, _SHA256, _VPDQ = range(4)
SNAPSHOT_FORMAT = 1


@dataclass(frozen=True, slots=True)
class BankHit:
    """An indexed signal that matched a query."""

    type: str
    value: str
    items: tuple[str, ...]
    distance: int | None


class HubBank:
    """The indexed signals of one hub."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.pdq = PdqIndex()
        self.exact = {"md5": ExactIndex(), "sha256": ExactIndex()}
        self.vpdq = VpdqIndex()
        self._ids: list[dict[str, int]] = [{}, {}, {}, {}]  # per type: value key -> id
        self._values: list[dict[int, str]] = [{}, {}, {}, {}]  # per type: id -> value key
        self._items: list[dict[int, list[str]]] = [{}, {}, {}, {}]
        self._lock = threading.Lock()
        self.applied = 0

    def __len__(self) -> int:
        return sum(len(ids) for ids in self._ids)

    def counts(self) -> dict[str, int]:
        """Live signals per type."""
        return {TYPES[t]: len(ids) for t, ids in enumerate(self._ids)}

    def item_count(self) -> int:
        """(signal, item reference) pairs held."""
        return sum(len(refs) for items in self._items for refs in items.values())

    def apply(self, block: Block) -> None:
        """Apply a block of feed entries, in order."""
        with self._lock:
            pending: list[int] = []  # rows of new PDQ signals, added to the index together
            pending_keys: list[str] = []
            digest_hex = block.digest.tobytes().hex()
            for row in range(len(block)):
                kind = int(block.type[row])
                if kind == _PDQ:
                    key = digest_hex[64 * row : 64 * row + 64]
                elif kind == _VPDQ:
                    key = block.vpdq[row]
                else:
                    key = digest_hex[64 * row : 64 * row + (32 if kind == _MD5 else 64)]
                ids = self._ids[kind]
                item = block.item[row]
                if block.op[row] == 0:
                    known = ids.get(key)
                    if known is not None:
                        holders = self._items[kind][known]
                        if item not in holders:
                            holders.append(item)
                        continue
                    if kind == _PDQ:
                        new_id = self.pdq.total_ids + len(pending)
                        pending.append(row)
                        pending_keys.append(key)
                    elif kind == _VPDQ:
                        new_id = self.vpdq.add(VpdqSignal().parse(key))
                    else:
                        (new_id,) = self.exact[TYPES[kind]].add([key])
                    ids[key] = new_id
                    self._values[kind][new_id] = key
                    self._items[kind][new_id] = [item]
                else:
                    known = ids.pop(key, None)
                    if known is None:
                        continue
                    if kind == _PDQ and pending:
                        self._flush(block, pending)
                    self._values[kind].pop(known, None)
                    self._items[kind].pop(known, None)
                    if kind == _PDQ:
                        self.pdq.remove([known])
                    elif kind == _VPDQ:
                        self.vpdq.remove([known])
                    else:
                        self.exact[TYPES[kind]].remove([known])
            if pending:
                self._flush(block, pending)
            self.applied += len(block)

    def _flush(self, block: Block, rows: list[int]) -> None:
        self.pdq.add_bytes(block.digest[np.asarray(rows, dtype=np.int64)])
        rows.clear()

    def hit(self, kind: str, id_: int, distance: int | None) -> BankHit | None:
        """The signal behind an index id, if still live."""
        code = TYPES.index(kind)
        value = self._values[code].get(id_)
        if value is None:
            return None
        return BankHit(kind, value, tuple(self._items[code].get(id_, ())), distance)

    def entries(self) -> Iterator[WireEntry]:
        """Every live (signal, item) pair as an add entry (what a snapshot holds)."""
        for kind, values in enumerate(self._values):
            for id_, value in list(values.items()):
                for item in self._items[kind].get(id_, []):
                    yield WireEntry(0, "add", TYPES[kind], value, item, None, "snapshot")

    def save(self, directory: Path, cursor: int) -> Path:
        """Write the bank as feed blocks plus the cursor it is good to; returns the file."""
        directory.mkdir(parents=True, exist_ok=True)
        target = directory / f"{self.name}-{cursor}.rdxbank"
        temporary = target.with_suffix(".tmp")
        with self._lock:
            entries = list(self.entries())
        header = json.dumps({"format": SNAPSHOT_FORMAT, "hub": self.name, "cursor": cursor})
        with temporary.open("wb") as out:
            out.write(header.encode() + b"\n")
            for start in range(0, len(entries), 65_536):
                out.write(encode_block(entries[start : start + 65_536], level=1))
        temporary.replace(target)
        return target

    def load(self, path: Path) -> int:
        """Apply a snapshot written by `save`; returns the cursor it is good to."""
        with path.open("rb") as source:
            header = json.loads(source.readline())
            if header.get("format") != SNAPSHOT_FORMAT:
                raise ValueError(f"{path}: snapshot format {header.get('format')} is not known")
            for frame in iter_frames(iter(lambda: source.read(1 << 20), b"")):
                self.apply(decode_block(frame))
        self.pdq.merge(wait=True)
        return int(header["cursor"])
