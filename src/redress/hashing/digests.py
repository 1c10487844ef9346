"""Exact digests (MD5, SHA-256) of any file, streamed in constant memory in one pass."""

from __future__ import annotations

import hashlib
from collections.abc import Collection
from pathlib import Path

from redress.hashing.errors import ErrorCode, HashingError

DIGEST_TYPES = ("md5", "sha256")
_CHUNK = 1 << 20


def file_digests(path: Path, types: Collection[str] = DIGEST_TYPES) -> dict[str, str]:
    """Hex digests of the file's bytes for each of `types` (md5, sha256), reading it once."""
    hashers = {name: hashlib.new(name) for name in DIGEST_TYPES if name in types}
    try:
        with path.open("rb") as handle:
            while chunk := handle.read(_CHUNK):
                for hasher in hashers.values():
                    hasher.update(chunk)
    except OSError as exc:
        raise HashingError(ErrorCode.UNREADABLE, f"Cannot read {path}: {exc.strerror}.") from None
    return {name: hasher.hexdigest() for name, hasher in hashers.items()}
