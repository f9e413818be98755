"""`X-Hub-Signature-256`: HMAC-SHA256 of the raw request body, keyed with the Meta App Secret.

Shared by the webhook receiver and the Flow data endpoint. The check runs on the raw bytes, before any
JSON parsing, and compares digests in constant time. See whatsapp-cloud-api.md sections 1.2 and 5.1.
"""

from __future__ import annotations

import enum
import hashlib
import hmac

SIGNATURE_HEADER = "X-Hub-Signature-256"
_PREFIX = "sha256="


class SignatureCheck(enum.Enum):
    """The webhook receiver answers a missing header differently from a wrong one (401 vs 403)."""

    MISSING = "missing"
    INVALID = "invalid"
    VALID = "valid"


def _digest(raw: bytes, secret: bytes) -> bytes:
    if not secret:
        # An empty key still yields a valid-looking HMAC, which would let anyone sign requests.
        raise ValueError("the app secret is empty")
    return hmac.new(secret, raw, hashlib.sha256).digest()


def sign(raw: bytes, secret: bytes) -> str:
    """The header value Meta would send for `raw`: ``sha256=<lowercase hex>``."""
    return _PREFIX + _digest(raw, secret).hex()


def check_signature(raw: bytes, header: str | None, secret: bytes) -> SignatureCheck:
    expected = _digest(raw, secret)
    if header is None or not header.strip():
        return SignatureCheck.MISSING
    value = header.strip()
    if not value.startswith(_PREFIX):
        return SignatureCheck.INVALID
    try:
        received = bytes.fromhex(value[len(_PREFIX) :])
    except ValueError:
        return SignatureCheck.INVALID
    if hmac.compare_digest(received, expected):
        return SignatureCheck.VALID
    return SignatureCheck.INVALID


def verify_signature(raw: bytes, header: str | None, secret: bytes) -> bool:
    """True only for a present and correct signature; use `check_signature` to tell missing from wrong."""
    return check_signature(raw, header, secret) is SignatureCheck.VALID
