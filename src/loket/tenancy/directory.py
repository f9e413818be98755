"""Which tenant owns a phone_number_id: asked on every webhook, so answered from memory."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from loket.clock import Clock, system_clock
from loket.db.engine import Database
from loket.db.models import PhoneNumber, Tenant
from loket.db.scope import SystemReason
from loket.security.secretbox import SecretBox


@dataclass(frozen=True, slots=True)
class TenantInfo:
    tenant_id: str
    kind: str
    display_name: str
    legal_name: str
    default_language: str
    official_channels: dict[str, Any]
    status: str


@dataclass(frozen=True, slots=True)
class NumberInfo:
    phone_number_id: str
    tenant_id: str
    display_number: str
    waba_id: str
    messages_per_second: int
    status: str


class PhoneDirectory:
    """A snapshot of tenants and numbers refreshed every `ttl` seconds and on a miss."""

    def __init__(self, db: Database, box: SecretBox, *, clock: Clock = system_clock, ttl: float = 5.0) -> None:
        self._db = db
        self._box = box
        self._clock = clock
        self._ttl = ttl
        self._loaded_at = float("-inf")
        self._numbers: dict[str, NumberInfo] = {}
        self._tenants: dict[str, TenantInfo] = {}
        self._tokens: dict[str, bytes] = {}

    async def refresh(self) -> None:
        async with self._db.system_session(SystemReason.DIRECTORY) as session:
            tenants = (await session.execute(select(Tenant))).scalars().all()
            numbers = (await session.execute(select(PhoneNumber))).scalars().all()
        self._tenants = {
            t.id: TenantInfo(
                t.id, t.kind, t.display_name, t.legal_name, t.default_language, dict(t.official_channels), t.status
            )
            for t in tenants
        }
        self._numbers = {
            n.phone_number_id: NumberInfo(
                n.phone_number_id, n.tenant_id, n.display_number, n.waba_id, n.messages_per_second, n.status
            )
            for n in numbers
        }
        self._tokens = {n.phone_number_id: n.access_token_enc for n in numbers}
        self._loaded_at = self._clock.monotonic()

    async def _fresh(self) -> None:
        if self._clock.monotonic() - self._loaded_at > self._ttl:
            await self.refresh()

    async def number(self, phone_number_id: str) -> NumberInfo | None:
        await self._fresh()
        info = self._numbers.get(phone_number_id)
        if info is None and self._clock.monotonic() - self._loaded_at > 1.0:
            await self.refresh()  # a number added a moment ago is found without waiting for the TTL
            info = self._numbers.get(phone_number_id)
        return info

    async def tenant(self, tenant_id: str) -> TenantInfo | None:
        await self._fresh()
        return self._tenants.get(tenant_id)

    def cached_tenant(self, tenant_id: str) -> TenantInfo | None:
        """From the last snapshot, without touching the database (for callers inside a transaction)."""
        return self._tenants.get(tenant_id)

    async def access_token(self, phone_number_id: str) -> str:
        await self._fresh()
        blob = self._tokens.get(phone_number_id)
        if blob is None:
            raise KeyError(f"no access token for phone number {phone_number_id}")
        return self._box.open(blob, table="phone_numbers", column="access_token", row=phone_number_id)

    async def numbers(self) -> list[NumberInfo]:
        await self._fresh()
        return list(self._numbers.values())
