"""The sealed field format: AES-256-GCM under a data key, bound to the key and to table, column and row.

    blob = version (1 byte) | key id (8 bytes, big-endian) | nonce (12 bytes) | ciphertext | tag (16 bytes)

The header travels in the clear so a reader knows which data key to fetch, and it is part of the
associated data together with `table|column|row`: a blob copied to another row, another column or
relabelled with another key id fails authentication and raises `CiphertextError`; it never
decrypts to someone else's data or to garbage.
"""

from __future__ import annotations

import os
import struct

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

VERSION = 0x02
NONCE_BYTES = 12
TAG_BYTES = 16
_HEADER = struct.Struct(">BQ")
HEADER_BYTES = _HEADER.size
MIN_BYTES = HEADER_BYTES + NONCE_BYTES + TAG_BYTES


class CryptoError(Exception):
    """Base of the typed errors of encryption at rest."""


class CiphertextError(CryptoError):
    """Not a sealed value, tampered with, moved to another row or column, or sealed under another key."""


def binding(header: bytes, table: str, column: str, row: str) -> bytes:
    return header + f"|{table}|{column}|{row}".encode()


def seal(aead: AESGCM, key_id: int, plaintext: bytes, *, table: str, column: str, row: str) -> bytes:
    header = _HEADER.pack(VERSION, key_id)
    nonce = os.urandom(NONCE_BYTES)
    return header + nonce + aead.encrypt(nonce, plaintext, binding(header, table, column, row))


def key_id_of(blob: bytes, *, table: str, column: str, row: str) -> int:
    if len(blob) < MIN_BYTES or blob[0] != VERSION:
        raise CiphertextError(f"{table}.{column} of {row}: not a sealed value")
    return int(_HEADER.unpack_from(blob)[1])


def open_sealed(aead: AESGCM, blob: bytes, *, table: str, column: str, row: str) -> bytes:
    key_id_of(blob, table=table, column=column, row=row)
    header = blob[:HEADER_BYTES]
    nonce = blob[HEADER_BYTES : HEADER_BYTES + NONCE_BYTES]
    try:
        return aead.decrypt(nonce, blob[HEADER_BYTES + NONCE_BYTES :], binding(header, table, column, row))
    except InvalidTag:
        raise CiphertextError(
            f"{table}.{column} of {row}: authentication failed (tampered, moved to another row, or wrong key)"
        ) from None
