"""Encryption at rest (AES-256-GCM) for the little the hub must keep secret but readable:
survivors' optional contact details, and the PIN of a just-created case for an idempotent retry.

The key comes from `REDRESS_SECRET_KEY` (base64 of 32 bytes); without it, a key file is created
beside the SQLite database (mode 0600) so that the embedded default works out of the box.
"""

from __future__ import annotations

import base64
import os
from pathlib import Path

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

_NONCE = 12


class SecretBox:
    """Seal and open small values; `context` binds a ciphertext to its purpose and owner."""

    def __init__(self, key: bytes) -> None:
        if len(key) != 32:
            raise ValueError("the secret key must be 32 bytes (base64 of 32 random bytes)")
        self._key = key

    def _aead(self, context: str) -> AESGCM:
        return AESGCM(self.derive(context))

    def derive(self, purpose: str) -> bytes:
        """A 32-byte key for `purpose` (e.g. signing portal cookies), independent of the others."""
        return HKDF(algorithm=SHA256(), length=32, salt=None, info=purpose.encode()).derive(
            self._key
        )

    def seal(self, plaintext: str, context: str) -> bytes:
        """Nonce and ciphertext of `plaintext`, bound to `context`."""
        nonce = os.urandom(_NONCE)
        return nonce + self._aead(context).encrypt(nonce, plaintext.encode(), None)

    def open(self, sealed: bytes, context: str) -> str:
        """The plaintext; raises `cryptography.exceptions.InvalidTag` if tampered or misbound."""
        nonce, body = sealed[:_NONCE], sealed[_NONCE:]
        return self._aead(context).decrypt(nonce, body, None).decode()


def load_key(secret: str | None, database_url: str) -> bytes:
    """The key from settings, or from (creating if needed) a file beside a SQLite database."""
    if secret:
        return base64.b64decode(secret)
    if not database_url.startswith("sqlite:///"):
        raise RuntimeError(
            "REDRESS_SECRET_KEY must be set when the database is not a local SQLite file; "
            'create one with: python -c "import os,base64;print(base64.b64encode(os.urandom(32))'
            '.decode())"'
        )
    db_path = database_url.removeprefix("sqlite:///") or "redress.db"
    key_file = Path(db_path + ".key") if db_path != ":memory:" else None
    if key_file is None:
        return os.urandom(32)
    if not key_file.exists():
        key_file.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            handle.write(base64.b64encode(os.urandom(32)).decode())
    return base64.b64decode(key_file.read_text().strip())
