"""One hub's signals in memory (the agent's index of a hub's feed; the bank is the hub's): a
`MultiIndex` with one index per signal type, and for every indexed signal the opaque item
references the hub gave it. Applies feed blocks in order; applying the same entries twice
changes nothing (so a restart may safely replay the feed)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TypeVar

import numpy as np

from redress.feed.wire import (
    TYPES,
    Block,
    WireEntry,
    WireFormatError,
    decode_block,
    encode_block,
    iter_frames,
)
from redress.hashing.errors import InvalidSignalError
from redress.hashing.files import SignalRecord
from redress.hashing.signal_types import (
    SIGNAL_TYPES,
    IndexKind,
    Md5Signal,
    PdqSignal,
    VpdqSignal,
    get_signal_type,
)
from redress.matching import (
    ExactIndex,
    MultiIndex,
    PdqIndex,
    SignalIndex,
    VpdqHit,
    VpdqIndex,
    new_index,
)
from redress.matching.vpdq_index import Segment

# Type codes of the feed's wire format (its order of `TYPES`).
_PDQ = TYPES.index(PdqSignal.name)
_MD5 = TYPES.index(Md5Signal.name)
_VPDQ = TYPES.index(VpdqSignal.name)
# Searched together, all views of a picture at once (PDQ's orientations); the rest one by one.
_HAMMING_TYPES = frozenset(
    name for name, kind in SIGNAL_TYPES.items() if kind.index_kind is IndexKind.HAMMING
)
SNAPSHOT_FORMAT = 1
_HEADER_LIMIT = 4096  # a header is under 200 bytes; never read a whole damaged file as one line


@dataclass(frozen=True, slots=True)
class HubHit:
    """A signal of one hub's index that matched a query: its value, the hub's item references,
    the distance (None for a video) and, for a video, the matched time ranges."""

    type: str
    value: str
    items: tuple[str, ...]
    distance: int | None
    segments: list[Segment] | None = None


SignalKey = bytes | str  # how a signal is keyed: digest bytes (pdq, md5, sha256), vPDQ text


class SnapshotError(ValueError):
    """A snapshot of a hub index that cannot be used: damaged, truncated, or from another
    version."""


_Index = TypeVar("_Index", PdqIndex, VpdqIndex, ExactIndex)


def _of_class(index: SignalIndex, cls: type[_Index]) -> _Index:
    """`index` as the class the signal type registry gave it (checked, not assumed)."""
    if not isinstance(index, cls):
        raise TypeError(f"expected a {cls.__name__}, got a {type(index).__name__}")
    return index


class HubIndex:
    """The indexed signals of one hub.

    Per signal type (by wire code): `_ids` maps a value to its index id; `_keys` and `_item`
    are lists indexed by id (None once removed), `_more` holds the rare extra item references
    of a signal that several items share.
    """

    def __init__(self, name: str) -> None:
        self.name = name
        self.signals = MultiIndex({kind: new_index(kind) for kind in TYPES})
        # Typed views for the bulk paths (feed blocks of PDQ bytes, the check's array search).
        self.pdq = _of_class(self.signals.index(PdqSignal.name), PdqIndex)
        self.vpdq = _of_class(self.signals.index(VpdqSignal.name), VpdqIndex)
        self.exact = {
            kind: _of_class(self.signals.index(kind), ExactIndex)
            for kind in TYPES
            if get_signal_type(kind).index_kind is IndexKind.EXACT
        }
        self._ids: list[dict[SignalKey, int]] = [{} for _ in TYPES]
        self._keys: list[list[SignalKey | None]] = [[] for _ in TYPES]
        self._item: list[list[str | None]] = [[] for _ in TYPES]
        self._more: list[dict[int, list[str]]] = [{} for _ in TYPES]
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return sum(len(ids) for ids in self._ids)

    def counts(self) -> dict[str, int]:
        """Live signals per type."""
        return {TYPES[t]: len(ids) for t, ids in enumerate(self._ids)}

    def item_count(self) -> int:
        """(signal, item reference) pairs held."""
        return len(self) + sum(len(refs) for more in self._more for refs in more.values())

    def apply(self, block: Block) -> None:
        """Apply a block of feed entries, in order."""
        keys: list[SignalKey] = block.digest.view("V32").ravel().tolist()
        with self._lock:
            if not self._add_pdq_block(block, keys):
                self._apply_rows(block, keys)

    def _add_pdq_block(self, block: Block, keys: list[SignalKey]) -> bool:
        """The bulk case in one step: a block of new PDQ signals only. False if it is not."""
        if block.op.any() or block.type.any():
            return False
        ids = self._ids[_PDQ]
        start = self.pdq.total_ids
        fresh = dict(zip(keys, range(start, start + len(keys)), strict=True))
        if len(fresh) != len(keys) or (ids and not ids.keys().isdisjoint(fresh)):
            return False
        added = self.pdq.add_bytes(block.digest)
        assert added.start == start  # only this hub index adds to its PDQ index, under its lock
        ids.update(fresh)
        self._keys[_PDQ].extend(keys)
        self._item[_PDQ].extend(block.item)
        return True

    def _apply_rows(self, block: Block, keys: list[SignalKey]) -> None:
        pending: list[int] = []  # rows of new PDQ signals, added to the index together
        for row, (op, kind, item) in enumerate(
            zip(block.op.tolist(), block.type.tolist(), block.item, strict=True)
        ):
            digest = keys[row]
            assert isinstance(digest, bytes)
            key: SignalKey = digest
            if kind == _MD5:
                key = digest[:16]
            elif kind == _VPDQ:
                key = block.vpdq[row]
            ids = self._ids[kind]
            known = ids.get(key)
            if op == 0:
                if known is not None:
                    if item != self._item[kind][known] and item not in self._more[kind].get(
                        known, ()
                    ):
                        self._more[kind].setdefault(known, []).append(item)
                    continue
                if kind == _PDQ:  # added in bulk, from the block's bytes
                    new_id = self.pdq.total_ids + len(pending)
                    pending.append(row)
                else:
                    value = key if isinstance(key, str) else key.hex()
                    (new_id,) = self.signals.add(TYPES[kind], [value])
                ids[key] = new_id
                self._keys[kind].append(key)
                self._item[kind].append(item)
                continue
            if known is None:
                continue
            if kind == _PDQ and pending:
                self._flush(block, pending)
            del ids[key]
            self._keys[kind][known] = None
            self._item[kind][known] = None
            self._more[kind].pop(known, None)
            self.signals.remove(TYPES[kind], [known])
        if pending:
            self._flush(block, pending)

    def _flush(self, block: Block, rows: list[int]) -> None:
        self.pdq.add_bytes(block.digest[np.asarray(rows, dtype=np.int64)])
        rows.clear()

    def hit(self, kind: str, id_: int, distance: int | None) -> HubHit | None:
        """The signal behind an index id, if still live."""
        code = TYPES.index(kind)
        keys = self._keys[code]
        key = keys[id_] if 0 <= id_ < len(keys) else None
        if key is None:
            return None
        value = key if isinstance(key, str) else key.hex()
        first = self._item[code][id_]
        items = ((first,) if first else ()) + tuple(self._more[code].get(id_, ()))
        return HubHit(kind, value, items, distance)

    def lookup(
        self, signals: Sequence[SignalRecord], pdq_threshold: int = PdqSignal.default_threshold
    ) -> list[HubHit]:
        """Every live signal matching one piece of content, described by `signals` (normalised;
        a picture's orientations among them): Hamming-type signals (PDQ) together, each indexed
        hash once at its smallest distance within `pdq_threshold`, closest first; then the
        others in the order given, at their type's defaults (a video's hits best first)."""
        grouped: dict[str, list[str]] = {}
        for signal in signals:
            if signal.type in _HAMMING_TYPES:
                grouped.setdefault(signal.type, []).append(signal.value)
        found: list[HubHit] = []
        for kind, values in grouped.items():
            for match in self.signals.query_group(kind, values, pdq_threshold):
                hit = self.hit(kind, match.id, match.distance)
                if hit is not None:
                    found.append(hit)
        for signal in signals:
            if signal.type in grouped:
                continue
            for match in self.signals.query(signal.type, signal.value):
                hit = self.hit(signal.type, match.id, match.distance)
                if hit is None:
                    continue
                if isinstance(match.hit, VpdqHit):
                    hit = replace(hit, segments=match.hit.segments)
                found.append(hit)
        return found

    def entries(self) -> Iterator[WireEntry]:
        """Every live (signal, item) pair as an add entry (what a snapshot holds)."""
        for kind, keys in enumerate(self._keys):
            for id_, key in enumerate(keys):
                if key is None:
                    continue
                value = key if isinstance(key, str) else key.hex()
                first = self._item[kind][id_]
                for item in ([first] if first else []) + self._more[kind].get(id_, []):
                    yield WireEntry(0, "add", TYPES[kind], value, item, None, "snapshot")

    def dead_share(self) -> float:
        """Share of the PDQ index's ids that are removed (tombstones still holding memory)."""
        total = self.pdq.total_ids
        return (total - len(self.pdq)) / total if total else 0.0

    def compacted(self) -> HubIndex:
        """A new hub index holding only the live signals (fresh ids, no tombstones, tables
        built).

        Removed hashes keep their memory in an index until it is rebuilt; a hub index that sees
        many withdrawals is swapped for its compacted copy so memory follows the live size.
        """
        with self._lock:
            entries = list(self.entries())
        fresh = HubIndex(self.name)
        for start in range(0, len(entries), 65_536):
            fresh.apply(decode_block(encode_block(entries[start : start + 65_536], level=1)[4:]))
        fresh.pdq.merge(wait=True)
        return fresh

    def save(self, directory: Path, cursor: int) -> Path:
        """Write the signals as feed blocks plus the cursor they are good to; returns the file."""
        directory.mkdir(parents=True, exist_ok=True)
        target = directory / f"{self.name}-{cursor}.rdxbank"
        temporary = target.with_suffix(".tmp")
        with self._lock:
            entries = list(self.entries())
        header = json.dumps(
            {"format": SNAPSHOT_FORMAT, "hub": self.name, "cursor": cursor, "entries": len(entries)}
        )
        with temporary.open("wb") as out:
            out.write(header.encode() + b"\n")
            for start in range(0, len(entries), 65_536):
                out.write(encode_block(entries[start : start + 65_536], level=1))
        temporary.replace(target)
        return target

    def load(self, path: Path) -> int:
        """Apply a snapshot written by `save`; returns the cursor it is good to.

        Raises `OSError` if the file cannot be read and `SnapshotError` if it is not a usable
        snapshot (this index may then hold part of it: start again with a fresh one).
        """
        applied = 0
        with path.open("rb") as source:
            header = _snapshot_header(path, source.readline(_HEADER_LIMIT))
            try:
                for frame in iter_frames(iter(lambda: source.read(1 << 20), b"")):
                    block = decode_block(frame)
                    self.apply(block)
                    applied += len(block)
            except (WireFormatError, InvalidSignalError) as exc:
                raise SnapshotError(f"{path}: damaged after {applied} entries: {exc}") from None
        if applied != header["entries"]:
            raise SnapshotError(f"{path}: {applied} entries, the header says {header['entries']}")
        self.pdq.merge(wait=True)
        return int(header["cursor"])


def _snapshot_header(path: Path, line: bytes) -> dict[str, int]:
    """The first line of a snapshot: JSON with the format, the cursor and the entry count."""
    try:
        header = json.loads(line)
    except (ValueError, RecursionError):  # not JSON, not text, or nested absurdly deep
        raise SnapshotError(f"{path}: not a Redress bank snapshot (no JSON header)") from None
    if not isinstance(header, dict):
        raise SnapshotError(f"{path}: not a Redress bank snapshot (header is not an object)")
    if header.get("format") != SNAPSHOT_FORMAT:
        raise SnapshotError(f"{path}: snapshot format {header.get('format')!r} is not known")
    for field in ("cursor", "entries"):
        value = header.get(field)
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise SnapshotError(f"{path}: header field {field!r} is not a whole number")
    return header
