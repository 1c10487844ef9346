"""Signal types: validation, normalisation, comparison."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from redress.hashing import InvalidSignalError, VpdqFrame, VpdqSignal, get_signal_type
from redress.hashing.signal_types import PdqSignal, hamming_distance

PDQ = "d8f8f0cce0f4a84f0e370a22028f67f0b36e2ed596623e1d33e6b39c4e9c9b22"
hex256 = st.binary(min_size=32, max_size=32).map(bytes.hex)


def test_pdq_uppercase_and_surrounding_whitespace_are_normalised() -> None:
    assert get_signal_type("PDQ").normalize(f"  {PDQ.upper()}\n") == PDQ


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
        get_signal_type("pdq").normalize(value)
    assert needle in caught.value.message
    assert caught.value.code.value == "invalid_signal"


@pytest.mark.parametrize(("name", "length"), [("md5", 32), ("sha256", 64)])
def test_digests_need_their_exact_length(name: str, length: int) -> None:
    signal = get_signal_type(name)
    assert signal.normalize("A" * length) == "a" * length
    with pytest.raises(InvalidSignalError, match=f"expected exactly {length}"):
        signal.normalize("a" * (length + 2))
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
    assert vpdq.normalize(text.replace("\n", ";")) == text


def test_vpdq_reads_the_reference_output_unchanged(reference: Path) -> None:
    text = (reference / "vpdq" / "hashes" / "pattern-sd-grey-bar.txt").read_text().strip()
    assert VpdqSignal().normalize(text) == text


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
