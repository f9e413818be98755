"""The knobs of staff sign-in (timeouts, lockout, throttling) and the keys derived for it."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import timedelta

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from loket.security.secretbox import SecretBox


@dataclass(frozen=True)
class StaffPolicy:
    idle_timeout: timedelta = timedelta(minutes=30)
    absolute_timeout: timedelta = timedelta(hours=12)
    # between the password step and a finished TOTP step
    sign_in_timeout: timedelta = timedelta(minutes=10)
    # per login name: free attempts, then an exponential delay, then a lock
    free_failures: int = 3
    max_delay: timedelta = timedelta(seconds=60)
    lock_after: int = 10
    lock_for: timedelta = timedelta(minutes=15)
    # failed attempts per client address, per endpoint family (login, totp)
    failures_per_minute_per_ip: int = 20
    totp_failures_per_session: int = 5
    # API keys
    max_key_overlap: timedelta = timedelta(days=7)
    default_key_overlap: timedelta = timedelta(hours=24)

    def delay_after(self, failures: int) -> timedelta:
        """How long after the latest failure the next attempt is allowed."""
        if failures < self.free_failures:
            return timedelta(0)
        seconds = 2 ** (failures - self.free_failures)
        return min(timedelta(seconds=seconds), self.max_delay)


class StaffKeys:
    """Everything staff identity derives from the master key, each for one purpose."""

    def __init__(self, master_key: bytes) -> None:
        self.box = SecretBox(master_key)
        self.pepper = _derive(master_key, b"staff/backup-codes/v1")
        self._login_key = _derive(master_key, b"staff/login-throttle/v1")
        self._csrf_key = _derive(master_key, b"staff/csrf/v1")

    def login_key(self, login: str) -> str:
        """A stable, non-reversible key for throttling a login name, known account or not."""
        return hmac.new(self._login_key, login.casefold().strip().encode(), hashlib.sha256).hexdigest()

    def csrf_token(self, session_token: str) -> str:
        return hmac.new(self._csrf_key, session_token.encode(), hashlib.sha256).hexdigest()


def _derive(master_key: bytes, purpose: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"loket/" + purpose).derive(master_key)
