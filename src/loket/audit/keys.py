"""Checkpoint signing keys: one Ed25519 key per tenant at a time, sealed with the master key, rotatable.

A retired key keeps its public half and validity period, so every checkpoint it signed while it was
valid still verifies, and anything it signs after retirement does not.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from urllib.parse import urlsplit

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from loket.audit.events import EventType
from loket.audit.log import AuditLog
from loket.audit.note import PublicKey, ts
from loket.audit.tables import AuditKey
from loket.clock import Clock, system_clock
from loket.db.engine import Database
from loket.security.secretbox import SecretBox


@dataclass(frozen=True)
class Signer:
    ref: int
    key: PublicKey
    private: Ed25519PrivateKey


def origin_base_from_url(public_url: str) -> str:
    """`https://loket.bank.example:8443/x` -> `loket.bank.example:8443/x` (a schema-less log identity)."""
    parts = urlsplit(public_url)
    return (parts.netloc + parts.path).rstrip("/") or "loket.invalid"


def _public(row: AuditKey) -> PublicKey:
    return PublicKey(row.tenant_id, row.name, bytes(row.public_key), int(row.valid_from), row.retired_at)


class KeyRing:
    def __init__(self, db: Database, box: SecretBox, *, origin_base: str, clock: Clock = system_clock) -> None:
        self.db = db
        self._box = box
        self.origin_base = origin_base
        self.clock = clock

    def origin(self, tenant: str) -> str:
        return f"{self.origin_base}/audit/{tenant}"

    def _binding(self, tenant: str, public: bytes) -> dict[str, str]:
        return {"table": "audit_keys", "column": "private_key_enc", "row": f"{tenant}:{public.hex()}"}

    async def _create(self, session: AsyncSession, tenant: str, valid_from: int) -> AuditKey:
        private = Ed25519PrivateKey.generate()
        public = private.public_key().public_bytes_raw()
        secret = base64.b64encode(private.private_bytes_raw()).decode()
        name = self.origin(tenant)
        row = AuditKey(
            tenant_id=tenant,
            name=name,
            key_id=PublicKey(tenant, name, public, valid_from).key_id.hex(),
            public_key=public,
            private_key_enc=self._box.seal(secret, **self._binding(tenant, public)),
            valid_from=valid_from,
            retired_at=None,
        )
        session.add(row)
        await session.flush()
        return row

    async def _current_row(self, session: AsyncSession, tenant: str) -> AuditKey | None:
        query = (
            select(AuditKey)
            .where(AuditKey.tenant_id == tenant, AuditKey.retired_at.is_(None))
            .order_by(AuditKey.valid_from.desc(), AuditKey.id.desc())
            .limit(1)
        )
        return (await session.execute(query)).scalars().first()

    def _unseal(self, row: AuditKey) -> Signer:
        raw = self._box.open(row.private_key_enc, **self._binding(row.tenant_id, bytes(row.public_key)))
        private = Ed25519PrivateKey.from_private_bytes(base64.b64decode(raw))
        if private.public_key().public_bytes_raw() != bytes(row.public_key):
            raise ValueError(f"audit key {row.id}: private key does not match its public key")
        return Signer(row.id, _public(row), private)

    async def signer(self, session: AsyncSession, tenant: str) -> Signer:
        """The tenant's current signing key, created on first use."""
        row = await self._current_row(session, tenant)
        if row is None:
            row = await self._create(session, tenant, ts(self.clock.now()))
        return self._unseal(row)

    async def rotate(
        self, tenant: str, *, by: str | None = None, log: AuditLog | None = None
    ) -> tuple[PublicKey | None, PublicKey]:
        """Retire the current key and start a new one now. Checkpoint times have one-second resolution,
        so the old key stays valid to the end of the current second: a checkpoint it signed a moment
        before the rotation must keep verifying."""
        now = ts(self.clock.now())
        async with self.db.transaction() as session:
            old = await self._current_row(session, tenant)
            if old is not None:
                await session.execute(update(AuditKey).where(AuditKey.id == old.id).values(retired_at=now + 1))
                old.retired_at = now + 1
            new = await self._create(session, tenant, now)
            if log is not None:  # the rotation itself is audited, in the same transaction
                fields = {"purpose": "audit_checkpoint", "action": "rotated", "key": new.key_id, "by": by}
                await log.record(EventType.KEY_CHANGED, tenant=tenant, actor=by, fields=fields, session=session)
            return (None if old is None else _public(old)), _public(new)

    async def public_keys(self, tenant: str | None = None) -> list[PublicKey]:
        query = select(AuditKey).order_by(AuditKey.tenant_id, AuditKey.valid_from, AuditKey.id)
        if tenant is not None:
            query = query.where(AuditKey.tenant_id == tenant)
        async with self.db.sessions() as session:
            return [_public(row) for row in (await session.execute(query)).scalars()]
