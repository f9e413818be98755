"""Data keys from the database, unwrapped once and kept in a bounded in-memory cache.

Every method takes the caller's session or connection, so key rows are read and created in the
caller's transaction (on SQLite there is only one connection). Missing keys are created with an
insert that ignores conflicts and then read back: two processes racing for the same new customer
end up with the one key that won.

Cached keys expire after `ttl_seconds`, so a key shredded or re-wrapped by another process stops
being used here within that time; the process that shreds evicts at once.
"""

from __future__ import annotations

import random
import time
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from loket.clock import Clock, system_clock
from loket.db.upsert import insert_ignore
from loket.security.blind_index import BlindIndexer
from loket.security.envelope import key_id_of, open_sealed, seal
from loket.security.keys import (
    PLATFORM,
    TENANT_SUBJECT,
    KeyErased,
    MasterKeyring,
    dek_binding,
    index_key_binding,
    new_secret,
    unwrap,
    wrap,
)
from loket.security.tables import CustomerKey, TenantKek, TenantKey

Executor = AsyncSession | AsyncConnection


@dataclass(frozen=True, slots=True)
class DataKey:
    id: int
    tenant_id: str
    aead: AESGCM

    def seal(self, plaintext: bytes, *, table: str, column: str, row: str) -> bytes:
        return seal(self.aead, self.id, plaintext, table=table, column=column, row=row)

    def open(self, blob: bytes, *, table: str, column: str, row: str) -> bytes:
        return open_sealed(self.aead, blob, table=table, column=column, row=row)


@dataclass(frozen=True, slots=True)
class _Cached:
    key: DataKey | None
    expires: float  # monotonic time
    subject: tuple[str, str] | None


@dataclass(slots=True)
class TenantState:
    tenant_id: str
    current_version: int
    versions: dict[int, str]  # KEK version -> id of the master key it derives from
    indexer: BlindIndexer
    loaded_at: float
    subjects: dict[str, str] = field(default_factory=dict)  # wa_id -> blind index, memoised
    refreshing: bool = False


Owner = tuple[str | None, str | None]  # (tenant, wa_id); wa_id None names the tenant's own key
_SUBJECT_MEMO = 100_000


def scope(tenant_id: str | None) -> str:
    return tenant_id or PLATFORM


def _subject_of(state: TenantState, wa_id: str) -> str:
    subject = state.subjects.get(wa_id)
    if subject is None:
        if len(state.subjects) >= _SUBJECT_MEMO:
            state.subjects.clear()
        subject = state.subjects[wa_id] = state.indexer.wa_id(wa_id)
    return subject


class KeyStore:
    def __init__(
        self,
        keyring: MasterKeyring,
        *,
        dialect: str,
        clock: Clock = system_clock,
        cache_size: int = 50_000,
        ttl_seconds: float = 30.0,
    ) -> None:
        self.keyring = keyring
        self._dialect = dialect
        self._clock = clock
        self._size = cache_size
        self._ttl = ttl_seconds
        self._tenants: dict[str, TenantState] = {}
        self._by_id: OrderedDict[int, _Cached] = OrderedDict()  # LRU; key None: shredded
        self._by_subject: dict[tuple[str, str], int] = {}

    # -- tenants --------------------------------------------------------------------------------

    async def tenant(self, conn: Executor, tenant_id: str | None) -> TenantState:
        tenant_id = scope(tenant_id)
        state = self._tenants.get(tenant_id)
        if state is not None and (time.monotonic() - state.loaded_at < self._ttl or state.refreshing):
            return state  # fresh, or stale while one caller refreshes it (versions only ever grow)
        if state is not None:
            state.refreshing = True
        try:
            fresh = await self._load_tenant(conn, tenant_id)
        finally:
            if state is not None:
                state.refreshing = False
        if state is not None:
            fresh.subjects = state.subjects
        self._tenants[tenant_id] = fresh
        return fresh

    async def _versions(self, conn: Executor, tenant_id: str) -> dict[int, str]:
        rows = await conn.execute(
            select(TenantKek.version, TenantKek.master_key_id).where(TenantKek.key_scope == tenant_id)
        )
        return {int(version): str(key_id) for version, key_id in rows.all()}

    async def _load_tenant(self, conn: Executor, tenant_id: str) -> TenantState:
        versions = await self._versions(conn, tenant_id)
        if not versions:
            await conn.execute(
                insert_ignore(self._dialect, TenantKek, "key_scope", "version").values(
                    key_scope=tenant_id, version=1, master_key_id=self.keyring.current_id, created_at=self._clock.now()
                )
            )
            versions = await self._versions(conn, tenant_id)
        current = max(versions)
        select_key = select(TenantKey.index_key_wrapped, TenantKey.kek_version).where(TenantKey.key_scope == tenant_id)
        row = (await conn.execute(select_key)).first()
        if row is None:
            kek = self.keyring.kek(versions[current], tenant_id, current)
            await conn.execute(
                insert_ignore(self._dialect, TenantKey, "key_scope").values(
                    key_scope=tenant_id,
                    index_key_wrapped=wrap(kek, new_secret(), index_key_binding(tenant_id)),
                    kek_version=current,
                    created_at=self._clock.now(),
                )
            )
            row = (await conn.execute(select_key)).one()
        wrapped, version = row
        kek = self.kek(versions, tenant_id, int(version))
        indexer = BlindIndexer(unwrap(kek, wrapped, index_key_binding(tenant_id)))
        return TenantState(tenant_id, current, versions, indexer, time.monotonic())

    def kek(self, versions: dict[int, str], tenant_id: str, version: int) -> AESGCM:
        return self.keyring.kek(versions[version], tenant_id, version)

    async def subject(self, conn: Executor, tenant_id: str | None, wa_id: str) -> str:
        """The blind index naming this customer in `customer_keys`."""
        return _subject_of(await self.tenant(conn, tenant_id), wa_id)

    def cached(self, owners: Iterable[Owner]) -> dict[Owner, DataKey]:
        """The keys of (tenant, wa_id or None for the tenant key) already in memory; no I/O."""
        found: dict[Owner, DataKey] = {}
        for owner in owners:
            tenant_id, wa_id = owner
            state = self._tenants.get(scope(tenant_id))
            if state is None:
                continue
            subject = _subject_of(state, wa_id) if wa_id is not None else TENANT_SUBJECT
            key_id = self._by_subject.get((state.tenant_id, subject))
            if key_id is None:
                continue
            key, hit = self._cached(key_id)
            if hit and key is not None:
                found[owner] = key
        return found

    async def owner_keys(self, conn: Executor, owners: Iterable[Owner]) -> dict[Owner, DataKey]:
        """The keys of (tenant, wa_id or None for the tenant key), created when missing."""
        pairs: dict[Owner, tuple[str, str]] = {}
        for owner in owners:
            tenant_id, wa_id = owner
            subject = await self.subject(conn, tenant_id, wa_id) if wa_id is not None else TENANT_SUBJECT
            pairs[owner] = (scope(tenant_id), subject)
        keys = await self.keys_for(conn, pairs.values())
        return {owner: keys[pair] for owner, pair in pairs.items()}

    # -- data keys ------------------------------------------------------------------------------

    def _cached(self, key_id: int) -> tuple[DataKey | None, bool]:
        entry = self._by_id.get(key_id)
        if entry is None:
            return None, False
        if time.monotonic() >= entry.expires:
            self.forget(key_id)
            return None, False
        self._by_id.move_to_end(key_id)
        return entry.key, True

    def _remember(self, key_id: int, key: DataKey | None, subject: tuple[str, str] | None) -> None:
        # Jittered expiry: keys loaded together (a burst of new customers) are not re-read together.
        expires = time.monotonic() + self._ttl * (0.5 + random.random() / 2)  # jitter, not a secret
        self._by_id[key_id] = _Cached(key, expires, subject)
        self._by_id.move_to_end(key_id)
        if subject is not None:
            self._by_subject[subject] = key_id
        while len(self._by_id) > self._size:
            old, evicted = self._by_id.popitem(last=False)
            self._drop_subject(old, evicted.subject)

    def _drop_subject(self, key_id: int, subject: tuple[str, str] | None) -> None:
        if subject is not None and self._by_subject.get(subject) == key_id:
            del self._by_subject[subject]

    def forget(self, key_id: int) -> None:
        entry = self._by_id.pop(key_id, None)
        if entry is not None:
            self._drop_subject(key_id, entry.subject)

    def forget_all(self) -> None:
        self._by_id.clear()
        self._by_subject.clear()
        self._tenants.clear()

    async def keys_for(
        self, conn: Executor, wanted: Iterable[tuple[str | None, str]]
    ) -> dict[tuple[str, str], DataKey]:
        """The data keys of (tenant, subject) pairs, created when missing."""
        found: dict[tuple[str, str], DataKey] = {}
        missing: set[tuple[str, str]] = set()
        for tenant_id, subject in wanted:
            pair = (scope(tenant_id), subject)
            key_id = self._by_subject.get(pair)
            key, hit = self._cached(key_id) if key_id is not None else (None, False)
            if hit and key is not None:
                found[pair] = key
            else:
                missing.add(pair)
        if not missing:
            return found
        rows = await self._fetch(conn, missing)
        absent = missing - set(rows)
        if absent:
            now = self._clock.now()
            values = []
            for tenant_id, subject in sorted(absent):
                state = await self.tenant(conn, tenant_id)
                kek = self.kek(state.versions, tenant_id, state.current_version)
                values.append(
                    {
                        "key_scope": tenant_id,
                        "subject": subject,
                        "wrapped_dek": wrap(kek, new_secret(), dek_binding(tenant_id, subject)),
                        "kek_version": state.current_version,
                        "created_at": now,
                    }
                )
            await conn.execute(insert_ignore(self._dialect, CustomerKey, "key_scope", "subject"), values)
            rows.update(await self._fetch(conn, absent))
        for pair, row in rows.items():
            found[pair] = await self._unwrap(conn, row)
        return found

    async def _fetch(self, conn: Executor, pairs: set[tuple[str, str]]) -> dict[tuple[str, str], Any]:
        tenants = {t for t, _ in pairs}
        subjects = {s for _, s in pairs}
        result = await conn.execute(
            select(
                CustomerKey.id,
                CustomerKey.key_scope,
                CustomerKey.subject,
                CustomerKey.wrapped_dek,
                CustomerKey.kek_version,
            ).where(CustomerKey.key_scope.in_(tenants), CustomerKey.subject.in_(subjects))
        )
        return {(row.key_scope, row.subject): row for row in result.all() if (row.key_scope, row.subject) in pairs}

    async def _unwrap(self, conn: Executor, row: Any) -> DataKey:
        if row.wrapped_dek is None:
            self._remember(int(row.id), None, None)
            raise KeyErased(f"data key {row.id} was shredded")
        state = await self.tenant(conn, row.key_scope)
        if row.kek_version not in state.versions:  # a rotation elsewhere added a version
            self._tenants.pop(row.key_scope, None)
            state = await self.tenant(conn, row.key_scope)
        kek = self.kek(state.versions, row.key_scope, int(row.kek_version))
        key = DataKey(
            int(row.id), row.key_scope, AESGCM(unwrap(kek, row.wrapped_dek, dek_binding(row.key_scope, row.subject)))
        )
        self._remember(key.id, key, (row.key_scope, row.subject))
        return key

    async def customer_key(self, conn: Executor, tenant_id: str | None, wa_id: str) -> DataKey:
        pair = (scope(tenant_id), await self.subject(conn, tenant_id, wa_id))
        return (await self.keys_for(conn, [pair]))[pair]

    async def tenant_key(self, conn: Executor, tenant_id: str | None) -> DataKey:
        pair = (scope(tenant_id), TENANT_SUBJECT)
        return (await self.keys_for(conn, [pair]))[pair]

    async def key(self, conn: Executor, key_id: int) -> DataKey:
        key, hit = self._cached(key_id)
        if hit:
            if key is None:
                raise KeyErased(f"data key {key_id} was shredded")
            return key
        row = (
            await conn.execute(
                select(
                    CustomerKey.id,
                    CustomerKey.key_scope,
                    CustomerKey.subject,
                    CustomerKey.wrapped_dek,
                    CustomerKey.kek_version,
                ).where(CustomerKey.id == key_id)
            )
        ).first()
        if row is None:
            raise KeyErased(f"data key {key_id} does not exist (shredded and purged, or a foreign ciphertext)")
        return await self._unwrap(conn, row)

    async def open(self, conn: Executor, blob: bytes, *, table: str, column: str, row: str) -> bytes:
        """Decrypt a sealed value; raises CiphertextError (tampered, moved) or KeyErased (shredded)."""
        key = await self.key(conn, key_id_of(blob, table=table, column=column, row=row))
        return key.open(blob, table=table, column=column, row=row)


_installed: KeyStore | None = None


def install_keystore(store: KeyStore) -> None:
    """Make `store` the process's key store (the runtime does this), for `current_keystore()`."""
    global _installed
    _installed = store


def current_keystore() -> KeyStore:
    if _installed is None:
        raise RuntimeError("no key store installed: the runtime installs one at start-up (loket.runtime)")
    return _installed
