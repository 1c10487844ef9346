"""The hashing core: signal types, safe media loading, PDQ, vPDQ and exact digests.

A plain library: no web, no database. Start with `hash_file` for whole files, or
`pdq_from_pixels` / `hash_video_file` for the pieces.
"""

from redress.hashing.digests import file_digests
from redress.hashing.errors import ErrorCode, HashingError, InvalidSignalError
from redress.hashing.files import FileHashes, HashOptions, MediaKind, SignalRecord, hash_file
from redress.hashing.images import DEFAULT_MAX_PIXELS, LoadedImage, load_image
from redress.hashing.pdq import (
    DIHEDRAL_VARIANTS,
    PdqHash,
    hash_image_file,
    pdq_dihedral_from_pixels,
    pdq_from_pixels,
)
from redress.hashing.signal_types import (
    SIGNAL_TYPES,
    PdqSignal,
    SignalType,
    VpdqFrame,
    VpdqSignal,
    get_signal_type,
)
from redress.hashing.video import VideoHash, hash_video_file

__all__ = [
    "DEFAULT_MAX_PIXELS",
    "DIHEDRAL_VARIANTS",
    "SIGNAL_TYPES",
    "ErrorCode",
    "FileHashes",
    "HashOptions",
    "HashingError",
    "InvalidSignalError",
    "LoadedImage",
    "MediaKind",
    "PdqHash",
    "PdqSignal",
    "SignalRecord",
    "SignalType",
    "VideoHash",
    "VpdqFrame",
    "VpdqSignal",
    "file_digests",
    "get_signal_type",
    "hash_file",
    "hash_image_file",
    "hash_video_file",
    "load_image",
    "pdq_dihedral_from_pixels",
    "pdq_from_pixels",
]
