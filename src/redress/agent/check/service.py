"""`check`: the signals of one piece of content (hashed here from a file, or sent as hashes)
matched against every enabled hub's bank, and the decision the matches make."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from redress.agent.errors import AgentError
from redress.agent.sync.service import HubFollower
from redress.hashing.budget import return_free_memory
from redress.hashing.errors import InvalidSignalError
from redress.hashing.files import HashOptions, SignalRecord, estimate_cost, hash_file
from redress.hashing.signal_types import normalise_signal

#: What an uploaded file is hashed into.
UPLOAD_TYPES = ("pdq", "vpdq", "md5", "sha256")
#: Memory a JSON check takes per byte of its body: parsed objects, vPDQ frames and their search.
JSON_COST_PER_BYTE = 32


class CheckCode(StrEnum):
    """Why a check is refused."""

    INVALID_SIGNAL = "invalid_signal"
    NO_SIGNALS = "no_signals"
    TOO_MANY_VPDQ_SIGNALS = "too_many_vpdq_signals"
    VPDQ_TOO_LONG = "vpdq_too_long"
    INVALID_REQUEST = "invalid_request"
    NO_FILE = "no_file"
    BATCH_TOO_LARGE = "batch_too_large"
    JSON_TOO_LARGE = "json_too_large"


@dataclass(frozen=True, slots=True)
class Match:
    """A bank signal that matched the content checked."""

    hub: str
    type: str
    value: str
    items: tuple[str, ...]
    distance: int | None
    action: str
    segments: list[tuple[float, float]] | None = None
    quarantined: bool = False  # matched too many distinct uploads: reported, not acted on


@dataclass(slots=True)
class CheckResult:
    """What `check` answers."""

    decision: str
    matches: list[Match]
    reviews: list[int] = field(default_factory=list)
    suppressed: bool = False
    signals: Sequence[SignalRecord] = ()  # what was checked (the quarantine counts by it)


def decide(matches: Sequence[Match]) -> str:
    """The strictest action among the matches that are not quarantined."""
    decision = "allow"
    for match in matches:
        if match.quarantined:
            continue
        if match.action == "block":
            decision = "block"
        elif match.action == "review" and decision == "allow":
            decision = "review"
    return decision


def validate_signals(raw: Sequence[dict[str, object]]) -> list[SignalRecord]:
    """Normalised signals from a request body; a bad one is refused with its position."""
    records = []
    for number, signal in enumerate(raw, start=1):
        kind, value = signal.get("type"), signal.get("value")
        if not isinstance(kind, str) or not isinstance(value, str):
            raise AgentError(
                422, CheckCode.INVALID_SIGNAL, f"signal {number}: needs 'type' and 'value'"
            )
        try:
            signal_type, canonical = normalise_signal(kind, value)
        except InvalidSignalError as exc:
            raise AgentError(
                422, CheckCode.INVALID_SIGNAL, f"signal {number}: {exc.message}"
            ) from None
        records.append(SignalRecord(signal_type.name, canonical))
    if not records:
        raise AgentError(422, CheckCode.NO_SIGNALS, "Send at least one signal (or a file).")
    return records


def check_vpdq_bounds(raw: Sequence[dict[str, object]], max_signals: int, max_frames: int) -> None:
    """Refuse a check whose vPDQ signals are too many or too long, before parsing any frame."""
    vpdq = [s.get("value") for s in raw if str(s.get("type", "")).lower() == "vpdq"]
    if len(vpdq) > max_signals:
        raise AgentError(
            413,
            CheckCode.TOO_MANY_VPDQ_SIGNALS,
            f"A check may hold at most {max_signals} vPDQ signals (one video needs one); "
            f"this one has {len(vpdq)}. Send the others separately, or raise "
            "REDRESS_AGENT_MAX_VPDQ_SIGNALS.",
        )
    for number, value in enumerate(vpdq, start=1):
        frames = value.count("\n") + value.count(";") + 1 if isinstance(value, str) else 0
        if frames > max_frames:
            raise AgentError(
                413,
                CheckCode.VPDQ_TOO_LONG,
                f"vPDQ signal {number} has about {frames:,} frames, over the limit of "
                f"{max_frames:,} (REDRESS_AGENT_MAX_VPDQ_FRAMES); hash one frame a second.",
            )


def upload_cost(*, path: Path, options: HashOptions) -> int:
    """Memory hashing an uploaded file will take at its peak, from the file's header."""
    return estimate_cost(path, options)


def hash_upload(*, path: Path, options: HashOptions) -> list[SignalRecord]:
    """Signals of an uploaded file, read once: PDQ of all 8 orientations for pictures, vPDQ
    for videos, MD5 and SHA-256 of the bytes (the hashing core keeps the types that apply).
    Decoding stays within `options` (REDRESS_MAX_DECODE_MB, video limits)."""
    try:
        hashed = hash_file(path, options)
    finally:
        return_free_memory()
    if hashed.error is not None:
        raise AgentError(422, f"unhashable_{hashed.error.code.value}", hashed.error.message)
    return hashed.signals


def match_banks(
    *, signals: Sequence[SignalRecord], followers: Iterable[HubFollower]
) -> list[Match]:
    """Every enabled hub's bank signals that `signals` match, once each per hub."""
    matches: list[Match] = []
    for follower in followers:
        hub = follower.hub
        if not hub.enabled:
            continue
        seen: set[tuple[str, str]] = set()
        for hit in follower.bank.lookup(signals, hub.pdq_threshold):
            if (hit.type, hit.value) in seen:
                continue
            seen.add((hit.type, hit.value))
            matches.append(
                Match(
                    hub.name, hit.type, hit.value, hit.items, hit.distance, hub.action, hit.segments
                )
            )
    return matches
