"""Secrets at rest (access tokens, API secrets): AES-256-GCM under a key derived from the master key.

The associated data names the table, column and row, so a ciphertext copied into another row or
column fails to decrypt instead of yielding someone else's secret.
"""

from __future__ import annotations

import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

VERSION = b"\x01"
NONCE_BYTES = 12


class SecretDecryptionError(Exception):
    """Tampered ciphertext, wrong row, or wrong master key; never decrypts to garbage."""


def _derive(master_key: bytes, purpose: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"loket/" + purpose).derive(master_key)


class SecretBox:
    def __init__(self, master_key: bytes) -> None:
        if len(master_key) != 32:
            raise ValueError("the master key must be 32 bytes")
        self._aead = AESGCM(_derive(master_key, b"secrets/v1"))

    @staticmethod
    def binding(table: str, column: str, row: str) -> bytes:
        return f"{table}|{column}|{row}".encode()

    def seal(self, plaintext: str, *, table: str, column: str, row: str) -> bytes:
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._aead.encrypt(nonce, plaintext.encode(), self.binding(table, column, row))
        return VERSION + nonce + sealed

    def open(self, blob: bytes, *, table: str, column: str, row: str) -> str:
        if len(blob) < 1 + NONCE_BYTES + 16 or blob[:1] != VERSION:
            raise SecretDecryptionError(f"{table}.{column} of {row}: not a sealed secret")
        nonce, sealed = blob[1 : 1 + NONCE_BYTES], blob[1 + NONCE_BYTES :]
        try:
            return self._aead.decrypt(nonce, sealed, self.binding(table, column, row)).decode()
        except InvalidTag:
            raise SecretDecryptionError(
                f"{table}.{column} of {row}: authentication failed (tampered, moved, or wrong master key)"
            ) from None
