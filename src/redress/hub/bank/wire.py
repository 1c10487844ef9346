"""Serving the feed in the compact format (`redress.feed.wire`) fast: blocks cover fixed ranges of
sequence numbers, and a block whose whole range is below the feed's head can never change (the
feed is append-only), so it is encoded once and kept in a bounded cache."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterator

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from redress.feed.wire import encode_block
from redress.hub.bank.models import FeedEntry
from redress.hub.ports import BlockCache

BLOCK = 65_536
_ROWS = (
    "SELECT f.seq, f.op, s.type, s.value, f.item_ref, f.variant, f.reason "
    "FROM feed_entries f JOIN signals s ON s.id = f.signal_id "
    "WHERE f.seq > {0} AND f.seq <= {0} ORDER BY f.seq"
)


class FeedBlockCache:
    """Encoded blocks by block number, least recently used dropped past `max_bytes`."""

    def __init__(self, max_bytes: int = 256 * 2**20) -> None:
        self.max_bytes = max_bytes
        self._blocks: OrderedDict[int, bytes] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()

    def get(self, number: int) -> bytes | None:
        with self._lock:
            frame = self._blocks.get(number)
            if frame is not None:
                self._blocks.move_to_end(number)
            return frame

    def put(self, number: int, frame: bytes) -> None:
        with self._lock:
            if number in self._blocks:
                return
            self._blocks[number] = frame
            self._size += len(frame)
            while self._size > self.max_bytes and self._blocks:
                _, dropped = self._blocks.popitem(last=False)
                self._size -= len(dropped)


def feed_head(session: Session) -> int:
    """The highest sequence number committed so far (0 for an empty feed)."""
    return int(session.scalar(select(func.max(FeedEntry.seq))) or 0)


def plan(after: int, head: int, limit: int) -> int:
    """The end of the range a response covers: at most `limit` sequence numbers past `after`,
    rounded down to a block boundary when that keeps later requests aligned, never past `head`."""
    end = min(head, after + limit)
    aligned = end - end % BLOCK
    return aligned if aligned > after and end < head else end


def _encode(session: Session, after: int, until: int) -> bytes:
    # Straight through the driver's cursor: plain tuples, no per-row ORM or Result work (this
    # is the cold path of a million-entry feed).
    connection = session.connection()
    marker = "?" if connection.dialect.paramstyle == "qmark" else "%s"
    cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(_ROWS.format(marker), (after, until))
        rows = cursor.fetchall()
    finally:
        cursor.close()
    return encode_block(rows)


def stream(
    sessions: sessionmaker[Session], cache: BlockCache, after: int, until: int, head: int
) -> Iterator[bytes]:
    """The frames for sequence numbers (after, until], one block range at a time."""
    start = after
    while start < until:
        number = start // BLOCK
        block_end = min((number + 1) * BLOCK, until)
        whole = start == number * BLOCK and block_end == (number + 1) * BLOCK
        frame = cache.get(number) if whole else None
        if frame is None:
            with sessions() as session:
                frame = _encode(session, start, block_end)
            if whole and block_end <= head:
                cache.put(number, frame)
        yield frame
        start = block_end
