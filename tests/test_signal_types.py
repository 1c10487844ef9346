"""Signal types: validation, normalisation, comparison."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from redress.hashing import InvalidSignalError, VpdqFrame, VpdqSignal, get_signal_type
from redress.hashing.signal_types import (
    SIGNAL_TYPES,
    PdqSignal,
    bare_hex_type,
    hamming_distance,
    normalise_signal,
)

PDQ = "d8f8f0cce0f4a84f0e370a22028f67f0b36e2ed596623e1d33e6b39c4e9c9b22"
hex256 = st.binary(min_size=32, max_size=32).map(bytes.hex)


def test_pdq_uppercase_and_surrounding_whitespace_are_normalised() -> None:
    assert get_signal_type("PDQ").normalise(f"  {PDQ.upper()}\n") == PDQ


@pytest.mark.parametrize(
    ("value", "needle"),
    [
        (PDQ[:-1], "63 hexadecimal characters; expected exactly 64"),
        (PDQ[:10] + " " + PDQ[11:], "whitespace at position 11"),
        (PDQ[:5] + "g" + PDQ[6:], "'g' at position 6"),
        ("", "empty"),
    ],
)
def test_invalid_pdq_values_say_what_is_wrong(value: str, needle: str) -> None:
    with pytest.raises(InvalidSignalError) as caught:
        get_signal_type("pdq").normalise(value)
    assert needle in caught.value.message
    assert caught.value.code.value == "invalid_signal"


@pytest.mark.parametrize(("name", "length"), [("md5", 32), ("sha256", 64)])
def test_digests_need_their_exact_length(name: str, length: int) -> None:
    signal = get_signal_type(name)
    assert signal.normalise("A" * length) == "a" * length
    with pytest.raises(InvalidSignalError, match=f"expected exactly {length}"):
        signal.normalise("a" * (length + 2))
    assert signal.matches("a" * length, "a" * length)
    assert not signal.matches("a" * length, "b" * length)


def test_unknown_type_lists_the_known_ones() -> None:
    with pytest.raises(InvalidSignalError, match="known types: pdq, vpdq, md5, sha256"):
        get_signal_type("phash")


def test_pdq_default_threshold_is_inclusive_at_31() -> None:
    pdq = PdqSignal()
    flipped = f"{int(PDQ, 16) ^ ((1 << 31) - 1):064x}"
    one_more = f"{int(PDQ, 16) ^ ((1 << 32) - 1):064x}"
    assert pdq.distance(PDQ, flipped) == 31
    assert pdq.matches(PDQ, flipped)
    assert not pdq.matches(PDQ, one_more)
    assert pdq.matches(PDQ, one_more, threshold=32)


@given(hex256, hex256, hex256)
def test_hamming_is_a_metric(a: str, b: str, c: str) -> None:
    assert hamming_distance(a, a) == 0
    assert hamming_distance(a, b) == hamming_distance(b, a)
    assert hamming_distance(a, c) <= hamming_distance(a, b) + hamming_distance(b, c)


@given(st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 100), hex256), min_size=1))
def test_vpdq_text_round_trips(rows: list[tuple[int, int, str]]) -> None:
    vpdq = VpdqSignal()
    frames = [VpdqFrame(n, q, h, round(n / 30, 3)) for n, q, h in rows]
    text = vpdq.format(frames)
    assert vpdq.parse(text) == frames
    assert vpdq.normalise(text.replace("\n", ";")) == text


def test_vpdq_reads_the_reference_output_unchanged(reference: Path) -> None:
    text = (reference / "vpdq" / "hashes" / "pattern-sd-grey-bar.txt").read_text().strip()
    assert VpdqSignal().normalise(text) == text


@pytest.mark.parametrize(
    ("value", "needle"),
    [
        ("0,100,abc", "3 fields"),
        (f"x,100,{PDQ},0.0", "must be integers"),
        (f"0,101,{PDQ},0.0", "quality 0-100"),
        ("0,100,zz,0.0", "vPDQ frame 1: PDQ hash contains 'z'"),
        ("\n\n", "empty"),
    ],
)
def test_invalid_vpdq_values_name_the_frame(value: str, needle: str) -> None:
    with pytest.raises(InvalidSignalError, match=needle):
        VpdqSignal().parse(value)


def test_vpdq_compare_ignores_low_quality_frames() -> None:
    vpdq = VpdqSignal()
    other = f"{int(PDQ, 16) ^ ((1 << 200) - 1):064x}"
    good = [VpdqFrame(i, 100, PDQ, float(i)) for i in range(4)]
    mixed = [*good[:3], VpdqFrame(3, 10, other, 3.0)]
    result = vpdq.compare(good, mixed)
    assert (result.query_match_percent, result.target_match_percent) == (100.0, 100.0)
    assert vpdq.matches(vpdq.format(good), vpdq.format(mixed))
    unrelated = [VpdqFrame(i, 100, other, float(i)) for i in range(4)]
    assert not vpdq.matches(vpdq.format(good), vpdq.format(unrelated))


# What follows pins the exact behaviour mutation testing (bench/mutate.py) found unpinned.


def _far(bits: int) -> str:
    """PDQ with its lowest `bits` bits flipped: exactly `bits` away."""
    return f"{int(PDQ, 16) ^ ((1 << bits) - 1):064x}"


def _message(call, value) -> str:  # type: ignore[no-untyped-def]
    with pytest.raises(InvalidSignalError) as caught:
        call(value)
    return caught.value.message


def test_messages_name_the_value_and_what_is_expected_in_full() -> None:
    assert _message(get_signal_type("pdq").normalise, 5) == "PDQ hash must be text, got int."
    assert _message(get_signal_type("md5").normalise, "ab") == (
        "MD5 digest has 2 hexadecimal characters; expected exactly 32."
    )
    assert _message(get_signal_type("sha256").normalise, "") == (
        "SHA256 digest is empty; expected 64 hexadecimal characters."
    )
    assert _message(get_signal_type("pdq").normalise, PDQ[:-1]) == (
        "PDQ hash has 63 hexadecimal characters; expected exactly 64."
    )
    vpdq = VpdqSignal()
    assert _message(vpdq.parse, 5) == "vPDQ hash must be text, got int."
    assert _message(vpdq.parse, " ; ") == (
        "vPDQ hash is empty; expected one line per frame: frame,quality,pdq_hex,timestamp."
    )
    assert _message(vpdq.parse, "1,2,3") == (
        "vPDQ frame 1 has 3 fields; expected 4: frame,quality,pdq_hex,timestamp."
    )


@pytest.mark.parametrize(
    "line",
    [f"-1,100,{PDQ},0.0", f"0,100,{PDQ},nan", f"0,100,{PDQ},-0.5", f"0,-1,{PDQ},0.0"],
)
def test_negative_frames_negative_or_nan_timestamps_and_bad_quality_are_refused(line: str) -> None:
    with pytest.raises(InvalidSignalError, match="must be >= 0 and quality 0-100"):
        VpdqSignal().parse(line)


def test_vpdq_limits_are_inclusive() -> None:
    vpdq = VpdqSignal()
    frames = vpdq.parse(f"0,0,{PDQ},0.0\n1,100,{PDQ},0\n2,50,{PDQ},1e3")
    assert [(f.frame_number, f.quality, f.timestamp) for f in frames] == [
        (0, 0, 0.0),
        (1, 100, 0.0),
        (2, 50, 1000.0),
    ]


def frames(*hashes: str, quality: int = 100) -> list[VpdqFrame]:
    return [VpdqFrame(i, quality, h, float(i)) for i, h in enumerate(hashes)]


def test_vpdq_compare_counts_each_side_separately_at_the_inclusive_limits() -> None:
    vpdq = VpdqSignal()
    # Frame distance 31 matches, 32 does not; quality exactly 50 is trusted.
    query = [VpdqFrame(0, 50, _far(31), 0.0), VpdqFrame(1, 100, _far(32), 1.0)]
    target = [
        *frames(PDQ, PDQ),
        VpdqFrame(2, 50, _far(200), 2.0),
    ]  # quality 50 counts on both sides
    result = vpdq.compare(query, target)
    assert result.query_match_percent == 50.0
    assert result.target_match_percent == pytest.approx(200 / 3)
    # Explicit thresholds are used, not the defaults.
    wider = vpdq.compare(query, target, frame_threshold=32)
    assert wider.query_match_percent == 100.0
    stricter = vpdq.compare(query, target, quality_threshold=51)
    assert (stricter.query_match_percent, stricter.target_match_percent) == (0.0, 0.0)
    # A one-frame side is compared normally.
    single = vpdq.compare(frames(PDQ), frames(PDQ, _far(200)))
    assert (single.query_match_percent, single.target_match_percent) == (100.0, 50.0)


def test_vpdq_compare_with_no_trusted_frame_on_one_side_is_zero() -> None:
    vpdq = VpdqSignal()
    zero = "0" * 64  # the empty side must not turn into a frame of zeros
    good = frames(zero)
    for flat in (frames(zero, quality=10), frames(zero, quality=49)):
        result = vpdq.compare(flat, good)
        assert (result.query_match_percent, result.target_match_percent) == (0.0, 0.0)
        result = vpdq.compare(good, flat)
        assert (result.query_match_percent, result.target_match_percent) == (0.0, 0.0)


def test_vpdq_compare_is_right_past_one_chunk_of_frames() -> None:
    vpdq = VpdqSignal()
    # 600 query frames (three chunks of 256): only the first and the last match the target,
    # each a different target frame; the third target frame matches nothing.
    query = frames(PDQ, *[_far(200)] * 598, _far(100))
    target = frames(PDQ, _far(100), _far(256))
    result = vpdq.compare(query, target)
    assert result.query_match_percent == pytest.approx(100 * 2 / 600)
    assert result.target_match_percent == pytest.approx(100 * 2 / 3)


def test_vpdq_matches_needs_the_percentage_on_both_sides_inclusive() -> None:
    vpdq = VpdqSignal()
    other = _far(200)
    four_of_five = vpdq.format(frames(PDQ, PDQ, PDQ, PDQ, other))
    all_same = vpdq.format(frames(PDQ, PDQ))
    assert vpdq.matches(four_of_five, all_same)  # exactly 80 % of the query, 100 % of the target
    assert vpdq.matches(all_same, four_of_five)
    three_of_five = vpdq.format(frames(PDQ, PDQ, PDQ, other, other))
    assert not vpdq.matches(three_of_five, all_same)  # 60 % one way is not enough
    assert not vpdq.matches(all_same, three_of_five)
    assert vpdq.matches(three_of_five, all_same, threshold=60)
    assert not vpdq.matches(three_of_five, all_same, threshold=60.5)


def test_normalise_signal_names_the_type_and_gives_the_canonical_value() -> None:
    signal_type, value = normalise_signal(" Md5 ", " " + "AB" * 16)
    assert (signal_type.name, value) == ("md5", "ab" * 16)
    with pytest.raises(InvalidSignalError, match="Unknown signal type 'phash'"):
        normalise_signal("phash", PDQ)


def test_the_old_spelling_is_the_same_function() -> None:
    for signal_type in SIGNAL_TYPES.values():
        value = PDQ if signal_type.name != "md5" else PDQ[:32]
        if signal_type.name == "vpdq":
            value = f"0,100,{PDQ},0.000"
        assert signal_type.normalize(value.upper()) == signal_type.normalise(value.upper())


def test_a_bare_hex_value_is_typed_by_its_length() -> None:
    assert bare_hex_type(PDQ) == "pdq"  # 64: PDQ, as in Meta's lists (never SHA-256)
    assert bare_hex_type(f" {PDQ[:32]}\n") == "md5"
    assert bare_hex_type(PDQ[:40]) is None and bare_hex_type("") is None
