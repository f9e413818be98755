"""API keys for the institution's own systems (events in, read-only look-ups).

A key is `lkt_<tenant>_<43 alphanumerics>` (about 256 random bits), shown once and stored as SHA-256:
a fast hash is enough for a secret that cannot be guessed, and it keeps verification cheap on the
events path. Rotation issues a new key and lets the old one live until the overlap ends.
"""

from __future__ import annotations

import hashlib
import secrets
import string
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from loket.db.models import Tenant
from loket.staff.access import Principal
from loket.staff.context import StaffContext, new_id
from loket.staff.errors import InvalidApiKey, InvalidRequest, NotFound
from loket.staff.tables import ApiKey

PREFIX = "lkt_"
SCOPES: dict[str, str] = {
    "events:write": "Send events (transactions, alerts, case updates) into Loket",
    "lookups:read": "Read-only look-ups of conversation and delivery state",
}
_ALPHABET = string.ascii_letters + string.digits
_RANDOM_LENGTH = 43
_TOUCH_EVERY = timedelta(seconds=60)


@dataclass(frozen=True)
class ApiKeyView:
    id: str
    tenant_id: str
    name: str
    hint: str
    scopes: tuple[str, ...]
    created_at: datetime
    created_by: str | None
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None
    rotated_from: str | None

    def status(self, now: datetime) -> str:
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at is not None and now >= self.expires_at:
            return "expired"
        return "expiring" if self.expires_at is not None else "active"


@dataclass(frozen=True)
class IssuedKey:
    key: str  # the only time the full key exists outside the caller's own systems
    view: ApiKeyView


@dataclass(frozen=True)
class ApiKeyPrincipal:
    key_id: str
    tenant_id: str
    scopes: frozenset[str]


def key_digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _view(row: ApiKey) -> ApiKeyView:
    return ApiKeyView(
        id=row.id,
        tenant_id=row.tenant_id,
        name=row.name,
        hint=row.hint,
        scopes=tuple(row.scopes),
        created_at=row.created_at,
        created_by=row.created_by,
        expires_at=row.expires_at,
        revoked_at=row.revoked_at,
        last_used_at=row.last_used_at,
        rotated_from=row.rotated_from,
    )


def _check_scopes(scopes: list[str] | tuple[str, ...]) -> list[str]:
    unknown = sorted(set(scopes) - SCOPES.keys())
    if unknown or not scopes:
        raise InvalidRequest(f"scopes must be one or more of {', '.join(SCOPES)}; unknown: {', '.join(unknown)}")
    return sorted(set(scopes))


class ApiKeys:
    def __init__(self, ctx: StaffContext) -> None:
        self._ctx = ctx

    async def create(
        self, actor: Principal | None, *, name: str, scopes: list[str], tenant_id: str | None = None
    ) -> IssuedKey:
        tenant = actor.tenant() if actor is not None else tenant_id
        if tenant is None:
            raise InvalidRequest("an API key belongs to a tenant")
        name = name.strip()
        if not name or len(name) > 100:
            raise InvalidRequest("the key name must be 1 to 100 characters")
        checked = _check_scopes(scopes)
        async with self._ctx.transaction() as session:
            if await session.get(Tenant, tenant) is None:
                raise NotFound(f"no tenant {tenant!r}")
            issued = await self._insert(session, tenant, name, checked, actor, rotated_from=None)
            await self._record(session, "apikey.created", actor, issued.view)
        return issued

    async def list_keys(self, actor: Principal) -> list[ApiKeyView]:
        async with self._ctx.transaction() as session:
            rows = await session.scalars(
                select(ApiKey).where(ApiKey.tenant_id == actor.tenant()).order_by(ApiKey.created_at, ApiKey.id)
            )
            return [_view(row) for row in rows]

    async def revoke(self, actor: Principal, key_id: str) -> ApiKeyView:
        async with self._ctx.transaction() as session:
            row = await self._owned(session, actor, key_id)
            if row.revoked_at is None:
                row.revoked_at = self._ctx.clock.now()
            view = _view(row)
            await self._record(session, "apikey.revoked", actor, view)
        return view

    async def rotate(self, actor: Principal, key_id: str, *, overlap: timedelta | None = None) -> IssuedKey:
        """A new key with the same name and scopes; the old one keeps working until the overlap ends."""
        overlap = self._ctx.policy.default_key_overlap if overlap is None else overlap
        if overlap < timedelta(0) or overlap > self._ctx.policy.max_key_overlap:
            limit = self._ctx.policy.max_key_overlap
            raise InvalidRequest(f"the overlap must be between 0 and {limit.total_seconds() / 3600:g} hours")
        now = self._ctx.clock.now()
        async with self._ctx.transaction() as session:
            row = await self._owned(session, actor, key_id)
            if _view(row).status(now) not in ("active", "expiring"):
                raise InvalidRequest("only a live key can be rotated; create a new one instead")
            ends = now + overlap
            row.expires_at = ends if row.expires_at is None else min(row.expires_at, ends)
            issued = await self._insert(session, row.tenant_id, row.name, list(row.scopes), actor, rotated_from=row.id)
            await self._record(
                session,
                "apikey.rotated",
                actor,
                issued.view,
                previous=key_id,
                overlap_seconds=int(overlap.total_seconds()),
            )
        return issued

    async def verify(self, presented: str | None, scope: str) -> ApiKeyPrincipal:
        """The tenant and scopes of a live key that has `scope`; InvalidApiKey otherwise, whatever the reason."""
        if scope not in SCOPES:
            raise ValueError(f"unknown API key scope {scope!r}")
        tenant = _tenant_of(presented)
        if presented is None or tenant is None:
            raise InvalidApiKey()
        now = self._ctx.clock.now()
        async with self._ctx.transaction() as session:
            row = await session.scalar(select(ApiKey).where(ApiKey.key_sha256 == key_digest(presented)))
            if row is None or row.tenant_id != tenant or _view(row).status(now) not in ("active", "expiring"):
                raise InvalidApiKey()
            if scope not in row.scopes:
                raise InvalidApiKey()
            if row.last_used_at is None or now - row.last_used_at >= _TOUCH_EVERY:
                row.last_used_at = now
            return ApiKeyPrincipal(key_id=row.id, tenant_id=row.tenant_id, scopes=frozenset(row.scopes))

    async def _insert(
        self,
        session: AsyncSession,
        tenant_id: str,
        name: str,
        scopes: list[str],
        actor: Principal | None,
        *,
        rotated_from: str | None,
    ) -> IssuedKey:
        random_part = "".join(secrets.choice(_ALPHABET) for _ in range(_RANDOM_LENGTH))
        key = f"{PREFIX}{tenant_id}_{random_part}"
        row = ApiKey(
            id=new_id(),
            tenant_id=tenant_id,
            name=name,
            key_sha256=key_digest(key),
            hint=random_part[-4:],
            scopes=scopes,
            created_at=self._ctx.clock.now(),
            created_by=actor.user_id if actor else None,
            expires_at=None,
            revoked_at=None,
            last_used_at=None,
            rotated_from=rotated_from,
        )
        session.add(row)
        await session.flush()
        return IssuedKey(key, _view(row))

    async def _owned(self, session: AsyncSession, actor: Principal, key_id: str) -> ApiKey:
        row = await session.get(ApiKey, key_id)
        if row is None or row.tenant_id != actor.tenant():
            raise NotFound("no such API key")
        return row

    async def _record(
        self,
        session: AsyncSession,
        action: str,
        actor: Principal | None,
        view: ApiKeyView,
        *,
        previous: str | None = None,
        overlap_seconds: int | None = None,
    ) -> None:
        await self._ctx.record(
            action,
            actor_id=actor.user_id if actor else None,
            tenant_id=view.tenant_id,
            target_type="api_key",
            target_id=view.id,
            scopes=",".join(view.scopes),
            session=session,
            previous=previous,
            overlap_seconds=overlap_seconds,
        )


def _tenant_of(presented: str | None) -> str | None:
    if not presented or not presented.startswith(PREFIX) or len(presented) > 200:
        return None
    tenant, sep, random_part = presented[len(PREFIX) :].rpartition("_")
    if not sep or not tenant or len(random_part) != _RANDOM_LENGTH or not random_part.isalnum():
        return None
    return tenant
