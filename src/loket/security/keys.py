"""The key hierarchy: master key(s) -> tenant key-encryption keys -> customer data keys.

- The master key (`LOKET_MASTER_KEY`, 32 bytes) is the root and never touches the database. During
  a rotation of the root, `LOKET_MASTER_KEY_PREVIOUS` holds the old one until `loket keys rotate`
  has re-wrapped everything under the new one. Each master key has a public id (an HKDF output,
  useless without the key) and a key check value stored in `master_keys`.
- A tenant KEK is HKDF(master key, "loket/kek/<tenant>/<version>"): derived, never stored. Its
  version row records which master key it comes from.
- Data keys and blind-index keys are random and stored wrapped (AES-256-GCM) under a KEK, with the
  tenant and subject as associated data, so a wrapped key moved to another row does not unwrap.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from loket.security.envelope import CiphertextError, CryptoError

KEY_BYTES = 32
NONCE_BYTES = 12
PLATFORM = "_platform"  # the key scope of rows no tenant owns yet (a number not registered)
TENANT_SUBJECT = "_tenant"  # a tenant's own data key: what belongs to no single customer
_CHECK_PLAINTEXT = b"loket key check v1"


class MasterKeyError(CryptoError):
    """The configured master key cannot open this database's keys (start-up refuses, with the reason)."""


class KeyErased(CryptoError):
    """The data key was destroyed (crypto-shredding): the content is gone for good."""


def _hkdf(master: bytes, info: str) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=KEY_BYTES, salt=None, info=info.encode()).derive(master)


def master_key_id(master: bytes) -> str:
    return _hkdf(master, "loket/master-key-id")[:8].hex()


def check_value(master: bytes) -> bytes:
    nonce = os.urandom(NONCE_BYTES)
    aad = master_key_id(master).encode()
    return nonce + AESGCM(_hkdf(master, "loket/key-check")).encrypt(nonce, _CHECK_PLAINTEXT, aad)


def check_matches(master: bytes, value: bytes) -> bool:
    try:
        aead = AESGCM(_hkdf(master, "loket/key-check"))
        return (
            aead.decrypt(value[:NONCE_BYTES], value[NONCE_BYTES:], master_key_id(master).encode()) == _CHECK_PLAINTEXT
        )
    except (InvalidTag, ValueError):
        return False


def new_secret() -> bytes:
    return os.urandom(KEY_BYTES)


def wrap(kek: AESGCM, secret: bytes, aad: bytes) -> bytes:
    nonce = os.urandom(NONCE_BYTES)
    return nonce + kek.encrypt(nonce, secret, aad)


def unwrap(kek: AESGCM, wrapped: bytes, aad: bytes) -> bytes:
    try:
        return kek.decrypt(wrapped[:NONCE_BYTES], wrapped[NONCE_BYTES:], aad)
    except (InvalidTag, ValueError):
        raise CiphertextError("a wrapped key failed authentication (tampered, moved, or wrong KEK)") from None


def dek_binding(tenant_id: str, subject: str) -> bytes:
    return f"loket/dek|{tenant_id}|{subject}".encode()


def index_key_binding(tenant_id: str) -> bytes:
    return f"loket/index-key|{tenant_id}".encode()


@dataclass
class MasterKeyring:
    """The configured master keys: the current one and, during a root rotation, previous ones."""

    current: bytes = field(repr=False)
    previous: tuple[bytes, ...] = field(default=(), repr=False)
    _by_id: dict[str, bytes] = field(default_factory=dict, init=False, repr=False)
    _keks: dict[tuple[str, str, int], AESGCM] = field(default_factory=dict, init=False, repr=False)

    def __post_init__(self) -> None:
        for key in (self.current, *self.previous):
            if len(key) != KEY_BYTES:
                raise MasterKeyError("a master key must be 32 bytes (URL-safe base64 of 32 random bytes)")
            self._by_id.setdefault(master_key_id(key), key)

    @property
    def current_id(self) -> str:
        return master_key_id(self.current)

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(self._by_id)

    def master(self, key_id: str) -> bytes:
        try:
            return self._by_id[key_id]
        except KeyError:
            raise MasterKeyError(
                f"master key {key_id} is needed but not configured: set it as LOKET_MASTER_KEY_PREVIOUS "
                "until `loket keys rotate` has finished"
            ) from None

    def kek(self, key_id: str, tenant_id: str, version: int) -> AESGCM:
        cached = self._keks.get((key_id, tenant_id, version))
        if cached is None:
            cached = AESGCM(_hkdf(self.master(key_id), f"loket/kek/{tenant_id}/{version}"))
            self._keks[(key_id, tenant_id, version)] = cached
        return cached
