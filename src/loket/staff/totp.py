"""TOTP (RFC 6238) with replay protection, and single-use backup codes.

A code is accepted for the current 30-second step or one step either side (clock drift), and only if
its step is later than the last step this account used: a code seen once is never accepted again.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime

import pyotp
import segno

ISSUER = "Loket"
STEP_SECONDS = 30
DRIFT_STEPS = 1
BACKUP_CODE_COUNT = 10
_BACKUP_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i: read aloud and typed from paper


@dataclass(frozen=True)
class Enrolment:
    secret: str
    provisioning_uri: str
    qr_svg: str


def new_secret() -> str:
    return pyotp.random_base32(length=32)


def enrolment(secret: str, *, account: str, issuer: str = ISSUER) -> Enrolment:
    uri = pyotp.TOTP(secret, interval=STEP_SECONDS).provisioning_uri(name=account, issuer_name=issuer)
    svg = segno.make(uri, error="m").svg_inline(scale=4, title=f"{issuer} TOTP")
    return Enrolment(secret=secret, provisioning_uri=uri, qr_svg=svg)


def step_at(moment: datetime) -> int:
    return int(moment.timestamp()) // STEP_SECONDS


def code_at(secret: str, moment: datetime) -> str:
    """The code an authenticator app shows at `moment` (tests and the CLI use it)."""
    return pyotp.TOTP(secret, interval=STEP_SECONDS).generate_otp(step_at(moment))


def matching_step(secret: str, code: str, *, now: datetime, last_used_step: int | None) -> int | None:
    """The step `code` belongs to, if it is valid now and newer than `last_used_step`; else None."""
    candidate = "".join(code.split())
    if len(candidate) != 6 or not candidate.isdigit():
        return None
    totp = pyotp.TOTP(secret, interval=STEP_SECONDS)
    current = step_at(now)
    found: int | None = None
    for step in range(current - DRIFT_STEPS, current + DRIFT_STEPS + 1):
        # compare every candidate step, so the time taken does not say which one matched
        if hmac.compare_digest(totp.generate_otp(step), candidate) and found is None:
            found = step
    if found is None or (last_used_step is not None and found <= last_used_step):
        return None
    return found


def new_backup_codes(count: int = BACKUP_CODE_COUNT) -> list[str]:
    codes: list[str] = []
    for _ in range(count):
        raw = "".join(secrets.choice(_BACKUP_ALPHABET) for _ in range(10))
        codes.append(f"{raw[:5]}-{raw[5:]}")
    return codes


def normalise_backup_code(code: str) -> str:
    raw = "".join(ch for ch in code.casefold() if ch.isalnum())
    return f"{raw[:5]}-{raw[5:]}" if len(raw) == 10 else raw


def backup_code_hash(pepper: bytes, user_id: str, code: str) -> str:
    """Keyed with a pepper derived from the master key: a stolen table alone cannot be brute-forced."""
    message = f"{user_id}|{normalise_backup_code(code)}".encode()
    return hmac.new(pepper, message, hashlib.sha256).hexdigest()


def looks_like_backup_code(code: str) -> bool:
    return len("".join(ch for ch in code if ch.isalnum())) == 10
