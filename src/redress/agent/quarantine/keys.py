"""The digests the flood safeguard counts by: a bank signal's, and one upload's."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from redress.hashing.files import SignalRecord


def signal_key(hub: str, kind: str, value: str) -> str:
    """The digest a bank signal is counted under."""
    return hashlib.blake2b(f"{hub}\0{kind}\0{value}".encode(), digest_size=16).hexdigest()


def upload_key(signals: Sequence[SignalRecord], content_id: str | None) -> str:
    """The digest one upload is counted as: its content digest, else `content_id`, else the
    query hashes (see `redress.agent.quarantine.service`)."""
    by_type = {s.type: s.value for s in signals}
    if "sha256" in by_type:
        basis = "sha256:" + by_type["sha256"]
    elif "md5" in by_type:
        basis = "md5:" + by_type["md5"]
    elif content_id:
        basis = "id:" + content_id
    else:
        basis = "q:" + "\n".join(sorted(f"{s.type}:{s.value}" for s in signals))
    return hashlib.blake2b(basis.encode(), digest_size=12).hexdigest()
