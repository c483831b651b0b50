"""Encryption at rest for endpoint and source secrets (AES-256-GCM, versioned).

Stored values look like `v1:<base64(nonce || ciphertext)>`; the version names the
scheme so a later key rotation can re-encrypt without guessing. The AES key is
derived from `HOOKWIRE_SECRET_KEY` with HKDF, so any long random string works.
"""

from __future__ import annotations

import base64
import os
import secrets
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from hookwire.errors import ConfigError, StoreError

_VERSION = "v1"
_MIN_KEY_LENGTH = 32


class SecretBox:
    """Seals and opens small secrets with one key shared by every hookwire process."""

    def __init__(self, key: str) -> None:
        if len(key) < _MIN_KEY_LENGTH:
            raise ConfigError(
                f"HOOKWIRE_SECRET_KEY must be at least {_MIN_KEY_LENGTH} characters; "
                "generate one with: python -c 'import secrets; print(secrets.token_urlsafe(32))'"
            )
        derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"hookwire secretbox v1")
        self._aead = AESGCM(derived.derive(key.encode()))

    def seal(self, plaintext: str) -> str:
        nonce = os.urandom(12)
        sealed = self._aead.encrypt(nonce, plaintext.encode(), None)
        return f"{_VERSION}:{base64.b64encode(nonce + sealed).decode()}"

    def open(self, stored: str) -> str:
        version, _, data = stored.partition(":")
        if version != _VERSION:
            raise StoreError(f"unknown secret encryption version {version!r}")
        raw = base64.b64decode(data)
        try:
            return self._aead.decrypt(raw[:12], raw[12:], None).decode()
        except InvalidTag:
            raise StoreError(
                "a stored secret cannot be decrypted: HOOKWIRE_SECRET_KEY differs from the key "
                "the secrets were written with"
            ) from None


def key_file_for(sqlite_path: str) -> Path:
    """Where a SQLite deployment keeps its generated secret key: beside the database file."""
    return Path(sqlite_path + ".key")


def load_or_create_key_file(path: Path) -> str:
    """Read the key beside a SQLite database, creating it (mode 0600) on first start."""
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(key + "\n")
    return key
