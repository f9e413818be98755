"""Per-tenant signing secrets and callback URLs of the events API.

A secret is `lks_` + 43 URL-safe characters (256 random bits), shown once and stored sealed with
SecretBox (bound to the tenant's row). Rotating keeps the previous secret valid for an overlap, so
the institution can switch without a failed request.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlsplit

from sqlalchemy import select

from loket.clock import Clock, system_clock
from loket.db.engine import Database
from loket.events.tables import EventEndpoint
from loket.security.secretbox import SecretBox

SECRET_PREFIX = "lks_"  # noqa: S105 - a prefix, not a secret
DEFAULT_OVERLAP = timedelta(hours=24)


@dataclass(frozen=True, slots=True)
class Endpoint:
    tenant_id: str
    secrets: tuple[bytes, ...]  # the current one first
    callback_url: str | None


class EndpointError(ValueError):
    pass


def check_callback_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.netloc or len(url) > 500:
        raise EndpointError("the callback URL must be an absolute http(s) URL of at most 500 characters")
    return url


class EndpointStore:
    def __init__(self, db: Database, box: SecretBox, *, clock: Clock = system_clock, ttl: float = 5.0) -> None:
        self._db = db
        self._box = box
        self._clock = clock
        self._ttl = ttl
        self._cache: dict[str, tuple[float, Endpoint | None]] = {}

    def _open(self, blob: bytes, tenant_id: str, column: str) -> bytes:
        return self._box.open(blob, table="event_endpoints", column=column, row=tenant_id).encode()

    async def get(self, tenant_id: str) -> Endpoint | None:
        cached = self._cache.get(tenant_id)
        now = self._clock.monotonic()
        if cached is not None and now - cached[0] < self._ttl:
            return cached[1]
        async with self._db.sessions() as session:
            row = await session.get(EventEndpoint, tenant_id)
        endpoint = None
        if row is not None:
            keys = [self._open(row.secret_enc, tenant_id, "secret")]
            still = row.previous_valid_until is not None and row.previous_valid_until > self._clock.now()
            if row.previous_secret_enc is not None and still:
                keys.append(self._open(row.previous_secret_enc, tenant_id, "previous_secret"))
            endpoint = Endpoint(tenant_id, tuple(keys), row.callback_url)
        self._cache[tenant_id] = (now, endpoint)
        return endpoint

    async def rotate(
        self, tenant_id: str, *, callback_url: str | None = None, overlap: timedelta = DEFAULT_OVERLAP
    ) -> str:
        """A new signing secret (returned once); the previous one stays valid for `overlap`."""
        secret = SECRET_PREFIX + secrets.token_urlsafe(32)
        now = self._clock.now()
        sealed = self._box.seal(secret, table="event_endpoints", column="secret", row=tenant_id)
        async with self._db.transaction() as session:
            row = (
                await session.execute(
                    select(EventEndpoint).where(EventEndpoint.tenant_id == tenant_id).with_for_update()
                )
            ).scalar_one_or_none()
            if row is None:
                session.add(
                    EventEndpoint(
                        tenant_id=tenant_id,
                        secret_enc=sealed,
                        callback_url=check_callback_url(callback_url) if callback_url else None,
                        created_at=now,
                    )
                )
            else:
                previous = self._box.open(row.secret_enc, table="event_endpoints", column="secret", row=tenant_id)
                row.previous_secret_enc = self._box.seal(
                    previous, table="event_endpoints", column="previous_secret", row=tenant_id
                )
                row.previous_valid_until = now + overlap
                row.secret_enc = sealed
                row.rotated_at = now
                if callback_url:
                    row.callback_url = check_callback_url(callback_url)
        self._cache.pop(tenant_id, None)
        return secret

    async def set_callback_url(self, tenant_id: str, url: str | None) -> None:
        async with self._db.transaction() as session:
            row = await session.get(EventEndpoint, tenant_id)
            if row is None:
                raise EndpointError(f"tenant {tenant_id} has no events endpoint yet: create a secret first")
            row.callback_url = check_callback_url(url) if url else None
        self._cache.pop(tenant_id, None)
