"""HMAC signatures of the events API and of Loket's callbacks to the institution.

    X-Loket-Tenant: bank-nusantara
    X-Loket-Signature: t=1764500000,v1=<hex HMAC-SHA256 of "1764500000." + raw body>

The timestamp is signed with the body, so a captured request cannot be replayed later with a
fresh timestamp; requests more than five minutes old (or ahead) are refused. Several `v1=` values
may be sent while a secret is being rotated. The same scheme signs Loket's callbacks, with the
tenant's secret, so the institution verifies them with the code it signs with.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence
from datetime import datetime

TENANT_HEADER = "X-Loket-Tenant"
SIGNATURE_HEADER = "X-Loket-Signature"
TOLERANCE_SECONDS = 300
_MAX_HEADER = 1024


class SignatureError(Exception):
    """Why a request is not authentic; the message names the problem, never a secret."""


def signature(secret: bytes, timestamp: int, body: bytes) -> str:
    return hmac.new(secret, str(timestamp).encode() + b"." + body, hashlib.sha256).hexdigest()


def signature_header(secret: bytes, timestamp: int, body: bytes) -> str:
    return f"t={timestamp},v1={signature(secret, timestamp, body)}"


def parse_header(value: str | None) -> tuple[int, list[str]]:
    if not value:
        raise SignatureError(f"missing {SIGNATURE_HEADER} header")
    if len(value) > _MAX_HEADER:
        raise SignatureError(f"{SIGNATURE_HEADER} header too long")
    timestamp: int | None = None
    signatures: list[str] = []
    for part in value.split(","):
        key, _, item = part.strip().partition("=")
        if key == "t" and item.isdigit() and len(item) <= 12:
            timestamp = int(item)
        elif key == "v1" and len(item) == 64:
            signatures.append(item.lower())
    if timestamp is None or not signatures:
        raise SignatureError(f"{SIGNATURE_HEADER} must be t=<unix seconds>,v1=<hex HMAC-SHA256>")
    return timestamp, signatures


def verify(
    header: str | None,
    body: bytes,
    secrets: Sequence[bytes],
    now: datetime,
    *,
    tolerance: int = TOLERANCE_SECONDS,
) -> int:
    """The signed timestamp when one of `secrets` signed `body` within `tolerance`; SignatureError otherwise."""
    timestamp, given = parse_header(header)
    age = now.timestamp() - timestamp
    if age > tolerance:
        raise SignatureError(
            f"the signature timestamp is {int(age)} s old; requests older than {tolerance} s are refused"
        )
    if age < -tolerance:
        raise SignatureError("the signature timestamp is in the future; check the sender's clock")
    for secret in secrets:
        expected = signature(secret, timestamp, body)
        if any(hmac.compare_digest(expected, candidate) for candidate in given):
            return timestamp
    raise SignatureError("the signature does not match the body")
