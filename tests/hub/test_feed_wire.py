"""The compact feed (`/v1/feed.bin`): same entries as the JSON feed, block-cached, resumable."""

from __future__ import annotations

import numpy as np
import pytest

from redress.hub import feed_wire
from redress.wire import WireEntry, WireFormatError, decode_block, encode_block, iter_frames


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
