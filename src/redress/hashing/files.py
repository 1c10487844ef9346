"""Hash one file into every signal that applies to it: the entry point the CLI, the hub's tools
and the agent share. A file that cannot be hashed gives a result with an error, never an
exception, so a batch goes on."""

from __future__ import annotations

import warnings
from collections.abc import Collection
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from PIL import Image, UnidentifiedImageError

from redress.hashing.digests import DIGEST_TYPES, file_digests
from redress.hashing.errors import ErrorCode, HashingError
from redress.hashing.images import (
    DEFAULT_MAX_DECODE_MB,
    DEFAULT_MAX_PIXELS,
    check_readable_file,
    decode_cost,
    load_image,
)
from redress.hashing.pdq import (
    PdqHash,
    low_quality_warning,
    pdq_dihedral_from_pixels,
    pdq_from_pixels,
)
from redress.hashing.signal_types import SIGNAL_TYPES, VpdqSignal
from redress.hashing.variants import bank_variants, canonical_image, query_variants_of_file
from redress.hashing.video import hash_video_file, probe_video
from redress.hashing.video_limits import (
    DEFAULT_MAX_VIDEO_FRAMES,
    DEFAULT_MAX_VIDEO_SECONDS,
    DEFAULT_VIDEO_DEADLINE_SECONDS,
    VideoLimits,
    video_decode_cost,
)


class MediaKind(StrEnum):
    """What a file holds, as far as hashing is concerned."""

    IMAGE = "image"
    VIDEO = "video"
    OTHER = "other"


#: Signal types computed when none are asked for: what StopNCII and HMA exchange.
AUTO_TYPES: dict[MediaKind, tuple[str, ...]] = {
    MediaKind.IMAGE: ("pdq",),
    MediaKind.VIDEO: ("vpdq", "md5"),
    MediaKind.OTHER: (),
}
_PERCEPTUAL = {"pdq": MediaKind.IMAGE, "vpdq": MediaKind.VIDEO}
#: Query-side vPDQ views per sampling period: a copy cut at any moment lines up within 1/10 s.
QUERY_PHASES = 30

#: Formats recognised by their first bytes that Redress cannot hash, for a helpful message.
_KNOWN_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"%PDF", "a PDF document"),
    (b"PK\x03\x04", "a ZIP archive or office document"),
    (b"\xff\x0a", "a JPEG XL image, which is not supported yet; convert it to JPEG or PNG"),
    (b"\x00\x00\x00\x0cJXL ", "a JPEG XL image, which is not supported yet; convert it to JPEG"),
    (b"8BPS", "a Photoshop document; export it as JPEG or PNG"),
    (b"<svg", "an SVG drawing, which has no pixels to hash; export it as PNG and hash that"),
    (b"<?xml", "an XML document"),
)
_UNSUPPORTED_IMAGE_HINTS = ("JPEG XL", "Photoshop", "SVG")


@dataclass(frozen=True, slots=True)
class SignalRecord:
    """One hash of one file: its type, value, quality (PDQ only) and variant (None: original)."""

    type: str
    value: str
    quality: int | None = None
    variant: str | None = None


@dataclass(slots=True)
class FileHashes:
    """Everything hashed from one file, or the error that stopped it."""

    path: str
    kind: MediaKind | None = None
    signals: list[SignalRecord] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    error: HashingError | None = None

    @property
    def ok(self) -> bool:
        """Whether the file was hashed."""
        return self.error is None


@dataclass(frozen=True, slots=True)
class HashOptions:
    """How to hash: which types (None: automatic per media kind), variants and limits.

    `variants`: also the bank-side variants (`redress hash --variants`); `query_variants`: the
    query-side views `redress match` compares (orientations, trimmed borders, crops).
    `max_decode_mb` bounds the memory one file may take to decode (see `estimate_cost`); the
    `max_video_*` and `video_deadline_seconds` bound a video's length and hashing time.
    """

    types: tuple[str, ...] | None = None
    dihedral: bool = False
    variants: bool = False
    query_variants: bool = False
    every_frame: bool = False
    fast: bool = True
    max_pixels: int = DEFAULT_MAX_PIXELS
    video_threads: int = 0
    max_decode_mb: int = DEFAULT_MAX_DECODE_MB
    max_video_seconds: float = DEFAULT_MAX_VIDEO_SECONDS
    max_video_frames: int = DEFAULT_MAX_VIDEO_FRAMES
    video_deadline_seconds: float = DEFAULT_VIDEO_DEADLINE_SECONDS

    @property
    def max_decode_bytes(self) -> int:
        """`max_decode_mb` in bytes."""
        return self.max_decode_mb << 20

    def video_limits(self) -> VideoLimits:
        """The video bounds of these options."""
        return VideoLimits(
            max_seconds=self.max_video_seconds,
            max_frames=self.max_video_frames,
            deadline_seconds=self.video_deadline_seconds,
            max_decode_bytes=self.max_decode_bytes,
        )


def estimate_cost(path: Path, options: HashOptions) -> int:
    """Peak memory, in bytes, of `hash_file(path, options)`, from the file's header only.

    0 for a file that will be refused before decoding (unreadable, not media, over the limits):
    refusing costs nothing. Callers reserve this much of a memory budget before hashing.
    """
    try:
        kind = media_kind(path)
        if kind is MediaKind.IMAGE:
            cost = decode_cost(path, max_pixels=options.max_pixels, fast=options.fast)
        elif kind is MediaKind.VIDEO:
            cost = video_decode_cost(path, options.video_threads)
        else:
            return 0
    except HashingError:
        return 0
    return cost if cost <= options.max_decode_bytes else 0


def parse_types(text: str) -> tuple[str, ...] | None:
    """`pdq,md5` to a tuple of known type names; `auto` or empty to None. Raises on unknowns."""
    names = [part.strip().lower() for part in text.split(",") if part.strip()]
    if not names or names == ["auto"]:
        return None
    unknown = [name for name in names if name not in SIGNAL_TYPES]
    if unknown:
        raise HashingError(
            ErrorCode.INVALID_SIGNAL,
            f"Unknown signal type(s): {', '.join(unknown)}; choose from "
            f"{', '.join(SIGNAL_TYPES)} or auto.",
        )
    return tuple(dict.fromkeys(names))


def media_kind(path: Path) -> MediaKind:
    """Image, video or other, from the file's header only (nothing is decoded)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        try:
            with Image.open(path):
                return MediaKind.IMAGE
        except UnidentifiedImageError:
            pass
        except Image.DecompressionBombError:
            return MediaKind.IMAGE
        except (OSError, SyntaxError, ValueError, EOFError):
            # Pillow recognised the format but not the header: let the image loader explain.
            return MediaKind.IMAGE
    return MediaKind.VIDEO if probe_video(path) else MediaKind.OTHER


def describe_unknown(path: Path) -> HashingError:
    """The error for a file that is neither an image nor a video, naming what it seems to be."""
    try:
        with path.open("rb") as handle:
            head = handle.read(4096)
    except OSError:
        head = b""
    if b"<svg" in head.lower():  # after an XML declaration, comments or a DOCTYPE
        head = b"<svg"
    for signature, label in _KNOWN_SIGNATURES:
        if head.lstrip().startswith(signature):
            code = (
                ErrorCode.UNSUPPORTED_FORMAT
                if any(hint in label for hint in _UNSUPPORTED_IMAGE_HINTS)
                else ErrorCode.NOT_MEDIA
            )
            if code is ErrorCode.UNSUPPORTED_FORMAT:
                return HashingError(code, f"This file is {label}.")
            return HashingError(code, f"This file is {label}, not an image or video.")
    return HashingError(
        ErrorCode.NOT_MEDIA,
        "Not an image or video this tool can read. Supported: JPEG, PNG, WebP, GIF, BMP, TIFF, "
        "HEIC/HEIF, AVIF images, and videos ffmpeg can decode (MP4, MOV, WebM, MKV, AVI...).",
    )


def hash_file(path: Path, options: HashOptions | None = None) -> FileHashes:
    """Every applicable signal of `path`; errors come back in the result, never raised."""
    opts = options or HashOptions()
    result = FileHashes(path=str(path))
    try:
        _hash_into(result, path, opts)
    except HashingError as exc:
        result.signals.clear()
        result.error = exc
    except Exception as exc:  # a decoder bug must cost one file, not the whole batch
        result.signals.clear()
        result.error = HashingError(
            ErrorCode.INTERNAL,
            f"The file could not be hashed because of an unexpected problem "
            f"({type(exc).__name__}: {exc}). Please report it with the file's format.",
        )
    return result


def _hash_into(result: FileHashes, path: Path, opts: HashOptions) -> None:
    check_readable_file(path)
    requested = opts.types
    perceptual = [name for name in (requested or ()) if name in _PERCEPTUAL]
    digests = [name for name in (requested or ()) if name in DIGEST_TYPES]
    if requested is not None and not perceptual:
        result.kind = MediaKind.OTHER
        _add_digests(result, path, digests)
        return
    kind = media_kind(path)
    result.kind = kind
    if kind is MediaKind.OTHER:
        raise describe_unknown(path)
    if requested is None:
        types = AUTO_TYPES[kind]
    else:
        types = tuple(name for name in requested if _PERCEPTUAL.get(name, kind) is kind)
        if not any(name in _PERCEPTUAL for name in types):
            wanted = " or ".join(perceptual)
            fits = "pdq" if kind is MediaKind.IMAGE else "vpdq"
            raise HashingError(
                ErrorCode.NO_APPLICABLE_TYPE,
                f"This file is {'an' if kind is MediaKind.IMAGE else 'a'} {kind.value}, so "
                f"{wanted} does not apply to it; use --types {fits} (or auto).",
            )
    if "pdq" in types:
        hashes, notes = _pdq_hashes(path, opts)
        result.signals.extend(SignalRecord("pdq", h.value, h.quality, h.variant) for h in hashes)
        result.warnings.extend(notes)
    if "vpdq" in types:
        video = hash_video_file(
            path,
            every_frame=opts.every_frame,
            max_pixels=opts.max_pixels,
            threads=opts.video_threads,
            phases=QUERY_PHASES if opts.query_variants else 1,
            trim_borders=opts.variants or opts.query_variants,
            limits=opts.video_limits(),
        )
        vpdq = VpdqSignal()
        result.signals.append(SignalRecord("vpdq", vpdq.format(video.frames)))
        result.signals.extend(
            SignalRecord("vpdq", vpdq.format(frames), variant=name)
            for name, frames in video.variants.items()
        )
        result.warnings.extend(video.warnings)
    _add_digests(result, path, [name for name in types if name in DIGEST_TYPES])


def _pdq_hashes(path: Path, opts: HashOptions) -> tuple[list[PdqHash], list[str]]:
    """PDQ hashes as the options ask: plain, dihedral, bank variants, or query variants.

    The image is decoded once; every hash comes from the same canonical pixels.
    """
    loaded = load_image(
        path, max_pixels=opts.max_pixels, fast=opts.fast, max_decode_bytes=opts.max_decode_bytes
    )
    canonical = canonical_image(loaded.pixels)
    if opts.query_variants:
        hashes = query_variants_of_file(
            path,
            canonical,
            fast=opts.fast,
            max_pixels=opts.max_pixels,
            max_decode_bytes=opts.max_decode_bytes,
        )
    elif opts.dihedral:
        hashes = pdq_dihedral_from_pixels(loaded.pixels)
    else:
        hashes = [pdq_from_pixels(loaded.pixels)]
    if opts.variants and not opts.query_variants:
        hashes.extend(bank_variants(canonical)[1:])  # [0] is the original, already first
    notes = list(loaded.warnings)
    if not hashes[0].trusted:
        notes.append(low_quality_warning(hashes[0].quality))
    return hashes, notes


def _add_digests(result: FileHashes, path: Path, types: Collection[str]) -> None:
    if types:
        values = file_digests(path, types)
        result.signals.extend(SignalRecord(name, values[name]) for name in types)
