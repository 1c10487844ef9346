"""Signal types: what a hash value looks like, how to validate and normalise it, and how two
values are compared. One registry (`SIGNAL_TYPES`) so the CLI, the hub and the agent all agree.

Values cross the wire as text: PDQ as 64 lowercase hex characters, MD5 as 32, SHA-256 as 64,
vPDQ as one line per frame, ``frame,quality,pdq_hex,timestamp``, exactly as Meta's vpdq writes it.
"""

from __future__ import annotations

import string
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import ClassVar

import numpy as np

from redress.hashing.errors import InvalidSignalError

_HEX = frozenset(string.hexdigits)


def _normalise_hex(value: str, *, length: int, label: str) -> str:
    """Strip surrounding whitespace, lowercase, and insist on exactly `length` hex digits."""
    if not isinstance(value, str):
        raise InvalidSignalError(f"{label} must be text, got {type(value).__name__}.")
    text = value.strip()
    if not text:
        raise InvalidSignalError(f"{label} is empty; expected {length} hexadecimal characters.")
    for position, char in enumerate(text):
        if char not in _HEX:
            shown = "whitespace" if char.isspace() else repr(char)
            raise InvalidSignalError(
                f"{label} contains {shown} at position {position + 1}; "
                f"expected {length} hexadecimal characters (0-9, a-f)."
            )
    if len(text) != length:
        raise InvalidSignalError(
            f"{label} has {len(text)} hexadecimal characters; expected exactly {length}."
        )
    return text.lower()


def hamming_distance(a: str, b: str) -> int:
    """Number of differing bits between two hex strings of equal length."""
    return (int(a, 16) ^ int(b, 16)).bit_count()


class IndexKind(StrEnum):
    """How values of a signal type are indexed for search (`redress.matching` maps each kind to
    its index class, so hashing never imports matching)."""

    EXACT = "exact"  # equal values only: cryptographic digests
    HAMMING = "hamming"  # radius search over 256-bit hashes (multi-index hashing): PDQ
    VIDEO = "video"  # share of trusted frames matched both ways: vPDQ


class SignalType(ABC):
    """A kind of hash. Subclasses say how values are validated, when two values match, which
    index kind holds them, and the threshold a search uses unless told otherwise."""

    name: ClassVar[str]
    description: ClassVar[str]
    index_kind: ClassVar[IndexKind]
    # Bits for Hamming types, percent of frames for video, unused (0) for exact digests.
    default_threshold: ClassVar[float]

    @abstractmethod
    def normalise(self, value: str) -> str:
        """The canonical text form of `value`; raises `InvalidSignalError` saying what is wrong."""

    def normalize(self, value: str) -> str:
        """The old, American spelling of `normalise` (kept only until every caller uses
        `normalise` or `normalise_signal`)."""
        return self.normalise(value)

    @abstractmethod
    def matches(self, a: str, b: str, threshold: float | None = None) -> bool:
        """Whether two normalised values match at `threshold` (the type's default if None)."""


class ExactDigestSignal(SignalType):
    """A cryptographic digest: two values match only when they are identical."""

    length: ClassVar[int]
    index_kind = IndexKind.EXACT
    default_threshold = 0

    def normalise(self, value: str) -> str:
        """Lowercase hex of the digest's exact length."""
        return _normalise_hex(value, length=self.length, label=f"{self.name.upper()} digest")

    def matches(self, a: str, b: str, threshold: float | None = None) -> bool:
        """Identical digests match; the threshold is ignored."""
        return a == b


class Md5Signal(ExactDigestSignal):
    """MD5 of the file's bytes (what StopNCII shares for videos)."""

    name = "md5"
    description = "MD5 digest of the file, 32 hex characters"
    length = 32


class Sha256Signal(ExactDigestSignal):
    """SHA-256 of the file's bytes."""

    name = "sha256"
    description = "SHA-256 digest of the file, 64 hex characters"
    length = 64


class PdqSignal(SignalType):
    """Meta's PDQ perceptual hash: 256 bits, compared by Hamming distance.

    Meta's guidance: distance <= 31 is a match, and a hash of quality below 50 comes from an image
    too flat to hash reliably (it is kept, with a warning, never silently dropped).
    """

    name = "pdq"
    description = "PDQ perceptual image hash, 64 hex characters (256 bits)"
    index_kind = IndexKind.HAMMING
    default_threshold: ClassVar[int] = 31
    min_quality: ClassVar[int] = 50
    bits: ClassVar[int] = 256

    def normalise(self, value: str) -> str:
        """Lowercase hex, 64 characters."""
        return _normalise_hex(value, length=64, label="PDQ hash")

    def distance(self, a: str, b: str) -> int:
        """Hamming distance in bits (0-256)."""
        return hamming_distance(a, b)

    def matches(self, a: str, b: str, threshold: float | None = None) -> bool:
        """Distance within `threshold` bits (default 31)."""
        limit = self.default_threshold if threshold is None else threshold
        return self.distance(a, b) <= limit


@dataclass(frozen=True, slots=True)
class VpdqFrame:
    """One hashed video frame, as Meta's vpdq writes it."""

    frame_number: int
    quality: int
    pdq: str
    timestamp: float

    def to_line(self) -> str:
        """``frame,quality,pdq_hex,timestamp`` with the timestamp to milliseconds."""
        return f"{self.frame_number},{self.quality},{self.pdq},{self.timestamp:.3f}"


@dataclass(frozen=True, slots=True)
class VpdqComparison:
    """How much of each video the other covers, in percent of frames of trusted quality."""

    query_match_percent: float
    target_match_percent: float


class VpdqSignal(SignalType):
    """Meta's vPDQ: a PDQ hash per sampled frame.

    Two videos match when at least `match_percent` of the trusted frames (quality >= 50) of each
    have a frame in the other within PDQ distance 31 — vpdq's own rule.
    """

    name = "vpdq"
    description = "vPDQ video hash: one line per frame, frame,quality,pdq_hex,timestamp"
    index_kind = IndexKind.VIDEO
    frame_threshold: ClassVar[int] = 31
    quality_threshold: ClassVar[int] = 50
    match_percent: ClassVar[float] = 80.0
    default_threshold = match_percent

    def parse(self, value: str) -> list[VpdqFrame]:
        """Frames from the text form (lines, or ``;``-separated on one line)."""
        if not isinstance(value, str):
            raise InvalidSignalError(f"vPDQ hash must be text, got {type(value).__name__}.")
        lines = [line.strip() for line in value.replace(";", "\n").splitlines()]
        lines = [line for line in lines if line]
        if not lines:
            raise InvalidSignalError(
                "vPDQ hash is empty; expected one line per frame: frame,quality,pdq_hex,timestamp."
            )
        frames = []
        for index, line in enumerate(lines, start=1):
            parts = [part.strip() for part in line.split(",")]
            if len(parts) != 4:
                raise InvalidSignalError(
                    f"vPDQ frame {index} has {len(parts)} fields; "
                    "expected 4: frame,quality,pdq_hex,timestamp."
                )
            try:
                number, quality, timestamp = int(parts[0]), int(parts[1]), float(parts[3])
            except ValueError:
                raise InvalidSignalError(
                    f"vPDQ frame {index}: frame number and quality must be integers and the "
                    f"timestamp a number of seconds, got {line!r}."
                ) from None
            if number < 0 or not 0 <= quality <= 100 or not timestamp >= 0:
                raise InvalidSignalError(
                    f"vPDQ frame {index}: frame number and timestamp must be >= 0 and quality "
                    f"0-100, got {line!r}."
                )
            try:
                pdq = _normalise_hex(parts[2], length=64, label="PDQ hash")
            except InvalidSignalError as exc:
                raise InvalidSignalError(f"vPDQ frame {index}: {exc.message}") from None
            frames.append(VpdqFrame(number, quality, pdq, timestamp))
        return frames

    def format(self, frames: Sequence[VpdqFrame]) -> str:
        """The canonical text form: one line per frame."""
        return "\n".join(frame.to_line() for frame in frames)

    def normalise(self, value: str) -> str:
        """Parse and re-format, so equal hashes have equal text."""
        return self.format(self.parse(value))

    def compare(
        self,
        query: Sequence[VpdqFrame],
        target: Sequence[VpdqFrame],
        *,
        frame_threshold: int | None = None,
        quality_threshold: int | None = None,
    ) -> VpdqComparison:
        """Percent of each side's trusted frames that have a match in the other (brute force)."""
        distance = self.frame_threshold if frame_threshold is None else frame_threshold
        quality = self.quality_threshold if quality_threshold is None else quality_threshold
        q_bits = _frames_to_bits([f.pdq for f in query if f.quality >= quality])
        t_bits = _frames_to_bits([f.pdq for f in target if f.quality >= quality])
        if len(q_bits) == 0 or len(t_bits) == 0:
            return VpdqComparison(0.0, 0.0)
        query_hit = np.zeros(len(q_bits), dtype=bool)
        target_hit = np.zeros(len(t_bits), dtype=bool)
        for start in range(0, len(q_bits), _CHUNK_ROWS):  # bounded memory for long videos
            close = pairwise_hamming(q_bits[start : start + _CHUNK_ROWS], t_bits) <= distance
            query_hit[start : start + _CHUNK_ROWS] = close.any(axis=1)
            target_hit |= close.any(axis=0)
        return VpdqComparison(100.0 * float(query_hit.mean()), 100.0 * float(target_hit.mean()))

    def matches(self, a: str, b: str, threshold: float | None = None) -> bool:
        """Both videos cover at least `threshold` percent (default 80) of each other."""
        needed = self.match_percent if threshold is None else threshold
        result = self.compare(self.parse(a), self.parse(b))
        return min(result.query_match_percent, result.target_match_percent) >= needed


def _frames_to_bits(hexes: Sequence[str]) -> np.ndarray:
    if not hexes:
        return np.zeros((0, 32), dtype=np.uint8)
    return np.frombuffer(bytes.fromhex("".join(hexes)), dtype=np.uint8).reshape(-1, 32)


_CHUNK_ROWS = 256
_POPCOUNT = np.array([bin(i).count("1") for i in range(256)], dtype=np.uint16)


def pairwise_hamming(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Hamming distances between every row of `a` and every row of `b` (uint8 rows of 32 bytes)."""
    distances: np.ndarray = _POPCOUNT[np.bitwise_xor(a[:, None, :], b[None, :, :])].sum(axis=2)
    return distances


SIGNAL_TYPES: dict[str, SignalType] = {
    signal.name: signal for signal in (PdqSignal(), VpdqSignal(), Md5Signal(), Sha256Signal())
}


def get_signal_type(name: str) -> SignalType:
    """The registered signal type called `name` (case-insensitive)."""
    key = name.strip().lower()
    try:
        return SIGNAL_TYPES[key]
    except KeyError:
        known = ", ".join(SIGNAL_TYPES)
        raise InvalidSignalError(f"Unknown signal type {name!r}; known types: {known}.") from None


def bare_hex_type(value: str) -> str | None:
    """The signal type a bare hex value without a type is taken for, by its length: 64
    characters PDQ (as in Meta's hash lists; never SHA-256), 32 MD5; None for other lengths."""
    return _BARE_HEX_TYPES.get(len(value.strip()))


_BARE_HEX_TYPES = {64: PdqSignal.name, 32: Md5Signal.name}


def normalise_signal(type_name: str, value: str) -> tuple[SignalType, str]:
    """The signal type called `type_name` and `value` in its canonical form.

    The one place a signal from outside (an API body, a hash list, a command line) is checked:
    raises `InvalidSignalError` (code `invalid_signal`, status 422) naming what is wrong.
    """
    signal_type = get_signal_type(type_name)
    return signal_type, signal_type.normalise(value)
