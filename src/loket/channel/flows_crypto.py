"""WhatsApp Flows data-exchange crypto, for both ends of the wire, and Flow media decryption.

Written from whatsapp-cloud-api.md section 5.1/5.2. A request carries an AES-128 key wrapped with the
business's RSA-2048 public key (RSA-OAEP, SHA-256 for both OAEP and MGF1, no label); the JSON payload is
AES-128-GCM with the request's IV and no AAD. The reply reuses the key with every IV byte inverted.
Loket uses the business side (`decrypt_request`, `encrypt_response`); the sandbox phone simulator uses
the client side (`encrypt_request`, `decrypt_response`, `encrypt_flow_media`).
"""

from __future__ import annotations

import base64
import binascii
import enum
import hashlib
import hmac
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from cryptography.exceptions import InvalidTag, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives import padding as sym_padding
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

JsonObject = dict[str, Any]

RSA_KEY_BITS = 2048
AES_KEY_BYTES = 16
GCM_TAG_BYTES = 16
REQUEST_IV_BYTES = 16
_GCM_IV_MIN_BYTES = 8
_GCM_IV_MAX_BYTES = 128

MEDIA_HMAC_TRAILER_BYTES = 10
_MEDIA_IV_BYTES = 16
_MEDIA_KEY_BYTES = 32
_MEDIA_HMAC_KEY_BYTES = 32
_SHA256_BYTES = 32
_AES_BLOCK_BITS = 128

_OAEP = padding.OAEP(mgf=padding.MGF1(algorithm=hashes.SHA256()), algorithm=hashes.SHA256(), label=None)

REQUEST_FIELDS = ("encrypted_flow_data", "encrypted_aes_key", "initial_vector")
MEDIA_METADATA_FIELDS = ("encrypted_hash", "iv", "encryption_key", "hmac_key", "plaintext_hash")


class FlowCryptoError(Exception):
    """Base of every error raised here; messages never contain key material or payload contents."""


class FlowKeyError(FlowCryptoError):
    """A key could not be loaded: bad PEM, wrong or missing passphrase, not RSA, or too small."""


class FlowDecryptionError(FlowCryptoError):
    """The RSA step failed, usually after a key rotation; the endpoint answers 421 so the client refetches
    the public key and retries."""


class FlowMalformedError(FlowCryptoError):
    """The input does not have the documented shape: missing fields, bad base64, wrong lengths, or a
    plaintext that is not a UTF-8 JSON object."""


class FlowIntegrityError(FlowCryptoError):
    """The AES-GCM tag did not verify: the ciphertext or tag was altered, or the key or IV is wrong."""


class MediaCheck(enum.StrEnum):
    METADATA = "metadata"
    ENCRYPTED_HASH = "encrypted_hash"
    HMAC = "hmac"
    PADDING = "padding"
    PLAINTEXT_HASH = "plaintext_hash"


class FlowMediaError(FlowCryptoError):
    def __init__(self, check: MediaCheck, message: str) -> None:
        super().__init__(message)
        self.check = check


@dataclass(frozen=True, slots=True)
class DecryptedFlowRequest:
    payload: JsonObject = field(repr=False)
    aes_key: bytes = field(repr=False)
    iv: bytes = field(repr=False)


class EncryptedFlowRequest(NamedTuple):
    body: dict[str, str]
    aes_key: bytes
    iv: bytes

    def __repr__(self) -> str:
        return "EncryptedFlowRequest(<redacted>)"


class EncryptedFlowMedia(NamedTuple):
    blob: bytes
    metadata: dict[str, str]

    def __repr__(self) -> str:
        return f"EncryptedFlowMedia(blob=<{len(self.blob)} bytes>, metadata=<redacted>)"


# ---------------------------------------------------------------- keys


def generate_private_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=RSA_KEY_BITS)


def generate_key_pair() -> tuple[rsa.RSAPrivateKey, rsa.RSAPublicKey]:
    private_key = generate_private_key()
    return private_key, private_key.public_key()


def _as_bytes(value: bytes | str) -> bytes:
    return value.encode() if isinstance(value, str) else value


def _check_key_size(key_size: int) -> None:
    if key_size < RSA_KEY_BITS:
        raise FlowKeyError(f"RSA key of {key_size} bits is too small; Flows use {RSA_KEY_BITS}")


def load_private_key(pem: bytes | str, passphrase: bytes | str | None = None) -> rsa.RSAPrivateKey:
    """Load a PKCS#1 (``BEGIN RSA PRIVATE KEY``, as Meta's generator writes, DES-EDE3 encrypted) or
    PKCS#8 PEM private key, encrypted or not."""
    password = _as_bytes(passphrase) if passphrase is not None else None
    try:
        key = serialization.load_pem_private_key(_as_bytes(pem), password=password)
    except TypeError as exc:
        # cryptography signals a missing (or unexpected) passphrase with TypeError.
        raise FlowKeyError(f"passphrase mismatch: {exc}") from exc
    except (ValueError, UnsupportedAlgorithm) as exc:
        raise FlowKeyError("not a readable PEM private key, or the passphrase is wrong") from exc
    if not isinstance(key, rsa.RSAPrivateKey):
        raise FlowKeyError(f"expected an RSA private key, got {type(key).__name__}")
    _check_key_size(key.key_size)
    return key


def load_public_key(pem: bytes | str) -> rsa.RSAPublicKey:
    try:
        key = serialization.load_pem_public_key(_as_bytes(pem))
    except (ValueError, UnsupportedAlgorithm) as exc:
        raise FlowKeyError("not a readable PEM public key") from exc
    if not isinstance(key, rsa.RSAPublicKey):
        raise FlowKeyError(f"expected an RSA public key, got {type(key).__name__}")
    _check_key_size(key.key_size)
    return key


def public_key_to_pem(key: rsa.RSAPublicKey | rsa.RSAPrivateKey) -> str:
    """SubjectPublicKeyInfo PEM, the form uploaded as ``business_public_key``."""
    public = key.public_key() if isinstance(key, rsa.RSAPrivateKey) else key
    pem = public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    return pem.decode("ascii")


def private_key_to_pem(key: rsa.RSAPrivateKey, passphrase: bytes | str | None = None) -> str:
    """PKCS#8 PEM, encrypted with the best available scheme when a passphrase is given."""
    encryption: serialization.KeySerializationEncryption = (
        serialization.NoEncryption()
        if passphrase is None
        else serialization.BestAvailableEncryption(_as_bytes(passphrase))
    )
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption)
    return pem.decode("ascii")


# ---------------------------------------------------------------- shared helpers


def _object(value: object, name: str) -> Mapping[str, object]:
    # Callers hand over parsed JSON, so the declared Mapping type is a hope, not a guarantee.
    if not isinstance(value, Mapping):
        raise FlowMalformedError(f"{name} is not a JSON object")
    return value


def _b64decode(value: object, name: str) -> bytes:
    if not isinstance(value, str):
        raise FlowMalformedError(f"{name} is missing or not a string")
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise FlowMalformedError(f"{name} is not valid base64") from exc


def _b64encode(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _invert(iv: bytes) -> bytes:
    return bytes(b ^ 0xFF for b in iv)


def _gcm(aes_key: bytes) -> AESGCM:
    if len(aes_key) != AES_KEY_BYTES:
        raise ValueError(f"Flows use AES-128: the key must be {AES_KEY_BYTES} bytes")
    return AESGCM(aes_key)


def _check_gcm_iv(iv: bytes) -> None:
    if not _GCM_IV_MIN_BYTES <= len(iv) <= _GCM_IV_MAX_BYTES:
        raise FlowMalformedError(f"initial_vector has {len(iv)} bytes")


def _open(aes_key: bytes, iv: bytes, sealed: bytes) -> bytes:
    if len(sealed) < GCM_TAG_BYTES:
        raise FlowMalformedError("ciphertext is shorter than the GCM tag")
    try:
        return _gcm(aes_key).decrypt(iv, sealed, None)
    except InvalidTag as exc:
        raise FlowIntegrityError("AES-GCM authentication failed") from exc


def _seal(aes_key: bytes, iv: bytes, payload: Mapping[str, Any]) -> bytes:
    plaintext = json.dumps(payload, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return _gcm(aes_key).encrypt(iv, plaintext.encode("utf-8"), None)


def _json_object(plaintext: bytes) -> JsonObject:
    try:
        parsed = json.loads(plaintext.decode("utf-8"))
    except (ValueError, RecursionError) as exc:
        raise FlowMalformedError("plaintext is not UTF-8 JSON") from exc
    if not isinstance(parsed, dict):
        raise FlowMalformedError(f"plaintext is a JSON {type(parsed).__name__}, not an object")
    return parsed


# ---------------------------------------------------------------- business side (Loket)


def decrypt_request(body: Mapping[str, object], private_key: rsa.RSAPrivateKey) -> DecryptedFlowRequest:
    """Decrypt a Flow data-exchange request body (already parsed from JSON)."""
    fields = _object(body, "the request body")
    flow_data, encrypted_key, iv = (_b64decode(fields.get(name), name) for name in REQUEST_FIELDS)
    _check_gcm_iv(iv)
    if len(flow_data) < GCM_TAG_BYTES:
        raise FlowMalformedError("encrypted_flow_data is shorter than the GCM tag")
    try:
        aes_key = private_key.decrypt(encrypted_key, _OAEP)
    except ValueError as exc:
        raise FlowDecryptionError("could not unwrap the AES key with the business private key") from exc
    if len(aes_key) != AES_KEY_BYTES:
        raise FlowMalformedError(f"the unwrapped AES key has {len(aes_key)} bytes, not {AES_KEY_BYTES}")
    payload = _json_object(_open(aes_key, iv, flow_data))
    return DecryptedFlowRequest(payload=payload, aes_key=aes_key, iv=iv)


def encrypt_response(payload: Mapping[str, Any], aes_key: bytes, iv: bytes) -> str:
    """base64(ciphertext ‖ tag) of the JSON reply, under the request's key and bit-inverted IV."""
    return _b64encode(_seal(aes_key, _invert(iv), payload))


# ---------------------------------------------------------------- client side (sandbox phone)


def encrypt_request(payload: Mapping[str, Any], public_key: rsa.RSAPublicKey) -> EncryptedFlowRequest:
    aes_key = AESGCM.generate_key(bit_length=AES_KEY_BYTES * 8)
    iv = os.urandom(REQUEST_IV_BYTES)
    body = {
        "encrypted_flow_data": _b64encode(_seal(aes_key, iv, payload)),
        "encrypted_aes_key": _b64encode(public_key.encrypt(aes_key, _OAEP)),
        "initial_vector": _b64encode(iv),
    }
    return EncryptedFlowRequest(body=body, aes_key=aes_key, iv=iv)


def decrypt_response(text: str, aes_key: bytes, iv: bytes) -> JsonObject:
    sealed = _b64decode(text.strip(), "response body")
    return _json_object(_open(aes_key, _invert(iv), sealed))


# ---------------------------------------------------------------- Flow media


def _media_field(metadata: Mapping[str, object], name: str, sizes: tuple[int, ...] | None) -> bytes:
    value = _b64decode(metadata.get(name), f"encryption_metadata.{name}")
    if (sizes is not None and len(value) not in sizes) or not value:
        raise FlowMalformedError(f"encryption_metadata.{name} has {len(value)} bytes")
    return value


def _media_mac(hmac_key: bytes, iv: bytes, ciphertext: bytes) -> bytes:
    return hmac.new(hmac_key, iv + ciphertext, hashlib.sha256).digest()[:MEDIA_HMAC_TRAILER_BYTES]


def decrypt_flow_media(ciphertext_with_hmac: bytes, encryption_metadata: Mapping[str, object]) -> bytes:
    """Check and decrypt a file downloaded from a Flow media upload's ``cdn_url``."""
    try:
        metadata = _object(encryption_metadata, "encryption_metadata")
        encrypted_hash = _media_field(metadata, "encrypted_hash", (_SHA256_BYTES,))
        iv = _media_field(metadata, "iv", (_MEDIA_IV_BYTES,))
        key = _media_field(metadata, "encryption_key", (16, 24, 32))
        hmac_key = _media_field(metadata, "hmac_key", None)
        plaintext_hash = _media_field(metadata, "plaintext_hash", (_SHA256_BYTES,))
    except FlowMalformedError as exc:
        raise FlowMediaError(MediaCheck.METADATA, str(exc)) from exc

    if not hmac.compare_digest(hashlib.sha256(ciphertext_with_hmac).digest(), encrypted_hash):
        raise FlowMediaError(MediaCheck.ENCRYPTED_HASH, "SHA-256 of the file does not match encrypted_hash")

    ciphertext = ciphertext_with_hmac[:-MEDIA_HMAC_TRAILER_BYTES]
    trailer = ciphertext_with_hmac[-MEDIA_HMAC_TRAILER_BYTES:]
    if len(ciphertext_with_hmac) < MEDIA_HMAC_TRAILER_BYTES or not hmac.compare_digest(
        _media_mac(hmac_key, iv, ciphertext), trailer
    ):
        raise FlowMediaError(MediaCheck.HMAC, "the HMAC trailer does not match")

    if not ciphertext or len(ciphertext) % (_AES_BLOCK_BITS // 8):
        raise FlowMediaError(MediaCheck.PADDING, "the ciphertext is not a whole number of AES blocks")
    decryptor = Cipher(algorithms.AES(key), modes.CBC(iv)).decryptor()
    padded = decryptor.update(ciphertext) + decryptor.finalize()
    unpadder = sym_padding.PKCS7(_AES_BLOCK_BITS).unpadder()
    try:
        plaintext = unpadder.update(padded) + unpadder.finalize()
    except ValueError as exc:
        raise FlowMediaError(MediaCheck.PADDING, "invalid PKCS7 padding") from exc

    if not hmac.compare_digest(hashlib.sha256(plaintext).digest(), plaintext_hash):
        raise FlowMediaError(MediaCheck.PLAINTEXT_HASH, "SHA-256 of the plaintext does not match")
    return plaintext


def encrypt_flow_media(plaintext: bytes) -> EncryptedFlowMedia:
    """What WhatsApp does to a Flow upload: returns the CDN file and its ``encryption_metadata``."""
    key = os.urandom(_MEDIA_KEY_BYTES)
    hmac_key = os.urandom(_MEDIA_HMAC_KEY_BYTES)
    iv = os.urandom(_MEDIA_IV_BYTES)
    padder = sym_padding.PKCS7(_AES_BLOCK_BITS).padder()
    padded = padder.update(plaintext) + padder.finalize()
    encryptor = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
    ciphertext = encryptor.update(padded) + encryptor.finalize()
    blob = ciphertext + _media_mac(hmac_key, iv, ciphertext)
    metadata = {
        "encrypted_hash": _b64encode(hashlib.sha256(blob).digest()),
        "iv": _b64encode(iv),
        "encryption_key": _b64encode(key),
        "hmac_key": _b64encode(hmac_key),
        "plaintext_hash": _b64encode(hashlib.sha256(plaintext).digest()),
    }
    return EncryptedFlowMedia(blob=blob, metadata=metadata)
