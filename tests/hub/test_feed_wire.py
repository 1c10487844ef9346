"""The compact feed (`/v1/feed.bin`): same entries as the JSON feed, block-cached, resumable."""

from __future__ import annotations

import numpy as np
import pytest

from redress.feed.wire import WireEntry, WireFormatError, decode_block, encode_block, iter_frames
from redress.hub.bank import wire as feed_wire


def binary_feed(hub, key: str, cursor: int = 0, limit: int = 1_000_000):
    response = hub.client.get(
        "/v1/feed.bin",
        params={"cursor": str(cursor), "limit": limit},
        headers={"Authorization": f"Bearer {key}"},
    )
    assert response.status_code == 200, response.text
    entries = [e for f in iter_frames(iter([response.content])) for e in decode_block(f).entries()]
    return entries, int(response.headers["X-Next-Cursor"]), int(response.headers["X-Feed-Head"])


def test_binary_feed_equals_json_feed_in_any_page_size(hub, monkeypatch):
    monkeypatch.setattr(feed_wire, "BLOCK", 7)  # many blocks, cached and partial
    rng = np.random.default_rng(0)
    key = hub.participant("P")
    case = hub.create_case(
        *[
            [
                {"type": "pdq", "value": rng.bytes(32).hex(), "quality": 90},
                {"type": "md5", "value": rng.bytes(16).hex()},
            ]
            for _ in range(12)
        ]
    )
    hub.client.post(f"/v1/cases/{case['case_number']}/withdraw", json={"pin": case["pin"]})
    expected = [
        (e["seq"], e["op"], e["type"], e["value"], e["item"], e["reason"])
        for e in hub.whole_feed(key)
    ]
    for limit in (1, 5, 7, 100):
        got, cursor = [], 0
        while True:
            entries, cursor, head = binary_feed(hub, key, cursor, limit)
            got += [(e.seq, e.op, e.type, e.value, e.item, e.reason) for e in entries]
            if cursor >= head:
                break
        assert got == expected, limit
    again, _, _ = binary_feed(hub, key)  # served from the block cache the second time
    assert [(e.seq, e.value) for e in again] == [(s, v) for s, _, _, v, _, _ in expected]


def test_binary_feed_needs_a_key(hub):
    assert hub.client.get("/v1/feed.bin").status_code == 401


def test_wire_round_trip_and_damage():
    entries = [
        WireEntry(1, "add", "pdq", "ab" * 32, "i_1", "rot90", "added"),
        WireEntry(2, "add", "md5", "cd" * 16, "i_2", None, "added"),
        WireEntry(3, "add", "vpdq", "0,100," + "ef" * 32 + ",0.0", "i_3", None, "added"),
        WireEntry(9, "remove", "sha256", "01" * 32, "i_4", None, "withdrawn"),
    ]
    frame = encode_block(entries)
    (body,) = list(iter_frames(iter([frame[:5], frame[5:]])))
    assert list(decode_block(body).entries()) == entries
    with pytest.raises(WireFormatError, match="ended inside a frame"):
        list(iter_frames(iter([frame[:-3]])))
    with pytest.raises(WireFormatError, match="zstd"):
        decode_block(b"not zstd at all")


def test_an_empty_feed_has_head_zero(hub):
    entries, cursor, head = binary_feed(hub, hub.participant("P"))
    assert (entries, cursor, head) == ([], 0, 0)


def test_block_cache_drops_the_least_recently_used_past_its_budget():
    cache = feed_wire.FeedBlockCache(max_bytes=12)
    for number in (1, 2, 3):
        cache.put(number, bytes([number]) * 4)
    assert [cache.get(n) for n in (1, 2, 3)] == [b"\x01" * 4, b"\x02" * 4, b"\x03" * 4]
    cache.put(2, b"ignored")  # a block's frame never changes: the first one stays
    assert cache.get(2) == b"\x02" * 4
    assert cache.get(1) is not None  # 1 is now the most recently used; 3 the least
    cache.put(4, b"\x04" * 4)
    assert cache.get(3) is None
    assert [cache.get(n) is not None for n in (1, 2, 4)] == [True, True, True]
    cache.put(5, b"\x05" * 8)  # needs two blocks' room: the two least recently used go
    assert [cache.get(n) is not None for n in (1, 2, 4, 5)] == [False, False, True, True]
    assert cache.get(99) is None


@pytest.mark.parametrize(
    ("after", "head", "limit", "end"),
    [
        (0, 200_000, 100_000, 65_536),  # rounded down to a block boundary
        (0, 100_000, 100_000, 100_000),  # the head is not rounded
        (65_536, 200_000, 10, 65_546),  # rounding would go backwards: not rounded
        (10, 5, 100, 5),  # never past the head
        (0, 0, 100, 0),
    ],
)
def test_plan_aligns_ranges_to_blocks(after, head, limit, end):
    assert feed_wire.plan(after, head, limit) == end


def _seqs(frames):
    """The sequence numbers in each frame (length prefix included) of a stream."""
    return [[int(s) for s in decode_block(body).seq] for body in iter_frames(iter(frames))]


def test_stream_frames_follow_block_boundaries_and_caches_only_whole_final_blocks(hub, monkeypatch):
    if not hub.settings.database_url.startswith("sqlite"):
        pytest.skip("framing does not depend on the database; SQLite is enough")
    from redress.db import make_engine, make_session_factory

    monkeypatch.setattr(feed_wire, "BLOCK", 7)
    rng = np.random.default_rng(1)
    hub.create_case(*[[{"type": "pdq", "value": rng.bytes(32).hex()}] for _ in range(20)])
    engine = make_engine(hub.settings.database_url)
    sessions = make_session_factory(engine)
    cache = feed_wire.FeedBlockCache()
    try:
        frames = list(feed_wire.stream(sessions, cache, 5, 20, head=20))
        assert _seqs(frames) == [[6, 7], list(range(8, 15)), list(range(15, 21))]
        # Whole blocks below the head are cached; the block ending at the head is final too;
        # the partial ones are not.
        assert cache.get(0) is None and cache.get(2) is None
        assert _seqs([cache.get(1)]) == [list(range(8, 15))]
        fresh = feed_wire.FeedBlockCache()
        assert _seqs(list(feed_wire.stream(sessions, fresh, 0, 14, head=14))) == [
            list(range(1, 8)),
            list(range(8, 15)),
        ]
        assert fresh.get(0) is not None and fresh.get(1) is not None  # ends at the head: final
        # A cached block is served from the cache, and only for a whole-block request.
        cache._blocks[0] = encode_block([WireEntry(99, "add", "md5", "00" * 16, "x", None, "r")])
        assert _seqs(list(feed_wire.stream(sessions, cache, 0, 7, head=20))) == [[99]]
        assert _seqs(list(feed_wire.stream(sessions, cache, 3, 7, head=20))) == [[4, 5, 6, 7]]
    finally:
        engine.dispose()
