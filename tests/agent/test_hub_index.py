"""`HubIndex`: feed blocks applied in order, idempotent replay, compaction."""

from __future__ import annotations

import numpy as np

from redress.agent.hub_index import HubIndex
from redress.feed.wire import WireEntry, decode_block, encode_block
from redress.hashing.files import SignalRecord
from redress.hashing.signal_types import VpdqSignal


def block(entries: list[WireEntry]):
    return decode_block(encode_block(entries)[4:])


def test_replaying_entries_changes_nothing_and_items_are_kept_once():
    rng = np.random.default_rng(0)
    values = [rng.bytes(32).hex() for _ in range(20)]
    entries = [
        WireEntry(i + 1, "add", "pdq", v, f"i_{i}", None, "added") for i, v in enumerate(values)
    ]
    entries.append(WireEntry(21, "add", "pdq", values[0], "i_other", None, "added"))
    entries.append(WireEntry(22, "add", "md5", "ab" * 16, "i_md5", None, "added"))
    entries.append(WireEntry(23, "remove", "pdq", values[1], "i_1", None, "withdrawn"))
    bank = HubIndex("hub")
    bank.apply(block(entries))
    bank.apply(block(entries))  # a restart replays from an older cursor
    assert bank.counts() == {"pdq": 19, "md5": 1, "sha256": 0, "vpdq": 0}
    assert bank.item_count() == 21
    (hit,) = bank.pdq.search([values[0]], 0)[0]
    assert bank.hit("pdq", hit.id, 0).items == ("i_0", "i_other")
    assert bank.pdq.search([values[1]], 0) == [[]]


def test_compaction_keeps_what_is_live_and_drops_the_tombstones():
    rng = np.random.default_rng(1)
    values = [rng.bytes(32).hex() for _ in range(3000)]
    bank = HubIndex("hub")
    bank.apply(
        block(
            [
                WireEntry(i + 1, "add", "pdq", v, f"i_{i}", None, "added")
                for i, v in enumerate(values)
            ]
        )
    )
    bank.apply(
        block(
            [
                WireEntry(5000 + i, "remove", "pdq", v, f"i_{i}", None, "withdrawn")
                for i, v in enumerate(values[:2000])
            ]
        )
    )
    assert bank.dead_share() > 0.6
    compact = bank.compacted()
    assert compact.dead_share() == 0 and len(compact) == len(bank) == 1000
    assert (bank.pdq.total_ids, compact.pdq.total_ids) == (3000, 1000)  # hashes held
    for value in values[1990:2010]:
        found = [bank.hit("pdq", h.id, 0) for h in bank.pdq.search([value], 0)[0]]
        again = [compact.hit("pdq", h.id, 0) for h in compact.pdq.search([value], 0)[0]]
        assert found == again
    assert compact.hit("pdq", compact.pdq.search([values[2500]], 0)[0][0].id, 0).items == (
        "i_2500",
    )


def _every_type() -> tuple[dict[str, str], list[WireEntry]]:
    rng = np.random.default_rng(2)
    frames = "\n".join(f"{i},100,{rng.bytes(32).hex()},{i}.000" for i in range(5))
    values = {
        "pdq": rng.bytes(32).hex(),
        "md5": rng.bytes(16).hex(),
        "sha256": rng.bytes(32).hex(),
        "vpdq": frames,
    }
    entries = [
        WireEntry(n + 1, "add", kind, value, f"i_{kind}", None, "added")
        for n, (kind, value) in enumerate(values.items())
    ]
    return values, entries


def test_every_signal_type_is_held_in_its_index_and_found_with_its_items():
    values, entries = _every_type()
    index = HubIndex("hub")
    index.apply(block(entries))
    assert index.signals.counts() == {"pdq": 1, "md5": 1, "sha256": 1, "vpdq": 1}
    for kind, value in values.items():
        (found,) = index.signals.query(kind, value)
        hit = index.hit(kind, found.id, found.distance)
        assert hit is not None and (hit.type, hit.value, hit.items) == (kind, value, (f"i_{kind}",))
    index.apply(
        block([WireEntry(9, "remove", "sha256", values["sha256"], "i_sha256", None, "withdrawn")])
    )
    assert index.signals.query("sha256", values["sha256"]) == []
    assert index.counts() == {"pdq": 1, "md5": 1, "sha256": 0, "vpdq": 1}


def test_a_snapshot_saved_loaded_and_saved_again_is_the_same_bytes(tmp_path):
    _, entries = _every_type()
    index = HubIndex("hub")
    index.apply(block(entries))
    first = index.save(tmp_path / "one", cursor=4)
    again = HubIndex("hub")
    assert again.load(first) == 4
    assert again.save(tmp_path / "two", cursor=4).read_bytes() == first.read_bytes()


def test_lookup_finds_what_each_index_finds_in_the_check_order():
    """PDQ views together (each hash once, closest first), then digests and videos in the
    order given; the same hits as asking each index directly."""
    rng = np.random.default_rng(4)
    pdq = [rng.bytes(32).hex() for _ in range(300)]
    video = "\n".join(f"{i},100,{pdq[i]},{i}.000" for i in range(10))
    md5 = rng.bytes(16).hex()
    entries = [
        WireEntry(i + 1, "add", "pdq", value, f"p_{i}", None, "added")
        for i, value in enumerate(pdq)
    ]
    entries += [
        WireEntry(401, "add", "md5", md5, "m", None, "added"),
        WireEntry(402, "add", "vpdq", video, "v", None, "added"),
    ]
    index = HubIndex("hub")
    index.apply(block(entries))

    def near(value: str, bits: int) -> str:
        return f"{int(value, 16) ^ ((1 << bits) - 1):064x}"

    signals = [
        SignalRecord("pdq", near(pdq[7], 12)),
        SignalRecord("md5", md5),
        SignalRecord("vpdq", video),
        SignalRecord("pdq", near(pdq[7], 3), variant="rotate90"),
        SignalRecord("pdq", near(pdq[9], 5), variant="flip"),
        SignalRecord("sha256", "ab" * 32),
    ]
    found = index.lookup(signals, pdq_threshold=31)
    assert [(h.type, h.items, h.distance) for h in found] == [
        ("pdq", ("p_7",), 3),
        ("pdq", ("p_9",), 5),
        ("md5", ("m",), 0),
        ("vpdq", ("v",), None),
    ]
    (videos,) = index.vpdq.search(VpdqSignal().parse(video))
    assert found[-1].segments == videos.segments == [(0.0, 9.0)]
    assert [h.items for h in index.lookup(signals, pdq_threshold=4)][:1] == [("p_7",)]
    assert index.lookup(signals[:1], pdq_threshold=11) == []
