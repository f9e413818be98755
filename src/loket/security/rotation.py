"""Key rotation, online: re-wrap data keys under a new KEK version, in small batches, resumably.

Rotating a KEK never re-encrypts data: each data key is unwrapped with its old KEK and wrapped
again with the new one, one batch per transaction, with a compare-and-set on the version so a key
shredded or re-wrapped meanwhile is left alone. Readers keep working throughout: a data key's
value never changes, and the old KEK stays derivable for as long as its master key is configured.

A run that stops half-way (crash, Ctrl-C, deploy) leaves keys under both versions, all readable;
the next run sees keys lagging behind the current version and finishes them instead of starting
another rotation. When no key uses an old version any more it is marked retired, and a master key
none of whose versions is live any more is marked retired too: `loket keys status` then says
that `LOKET_MASTER_KEY_PREVIOUS` can be removed.

Root rotation: set the new master key as LOKET_MASTER_KEY and the old one as
LOKET_MASTER_KEY_PREVIOUS, restart, run `loket keys rotate`; every tenant whose current KEK comes
from another master key gets a new version under the new one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from loket.audit.events import EventType
from loket.audit.log import current as audit_current
from loket.clock import Clock, system_clock
from loket.db.engine import Database
from loket.db.scope import SystemReason
from loket.security.keys import dek_binding, index_key_binding, unwrap, wrap
from loket.security.keystore import KeyStore
from loket.security.tables import CustomerKey, MasterKeyRecord, TenantKek, TenantKey

Progress = Callable[[str, int, int], None]  # (scope, re-wrapped so far, still lagging)


@dataclass
class ScopeStatus:
    scope: str
    current_version: int
    current_master: str
    keys_by_version: dict[int, int] = field(default_factory=dict)  # live data keys per KEK version
    shredded: int = 0

    @property
    def lagging(self) -> int:
        return sum(n for version, n in self.keys_by_version.items() if version < self.current_version)


@dataclass
class RotationReport:
    started: dict[str, int] = field(default_factory=dict)  # scope -> new version, for rotations begun now
    resumed: dict[str, int] = field(default_factory=dict)  # scope -> version, for rotations finished now
    rewrapped: int = 0
    retired_versions: list[tuple[str, int]] = field(default_factory=list)
    retired_masters: list[str] = field(default_factory=list)
    interrupted: bool = False


async def key_status(db: Database) -> list[ScopeStatus]:
    async with db.system_session(SystemReason.OPERATOR_CLI) as session:
        versions = (
            await session.execute(select(TenantKek.key_scope, TenantKek.version, TenantKek.master_key_id))
        ).all()
        statuses: dict[str, ScopeStatus] = {}
        for scope, version, master in sorted(versions):
            statuses[scope] = ScopeStatus(scope, int(version), str(master))
        counts = await session.execute(
            select(
                CustomerKey.key_scope, CustomerKey.kek_version, CustomerKey.wrapped_dek.is_(None), func.count()
            ).group_by(CustomerKey.key_scope, CustomerKey.kek_version, CustomerKey.wrapped_dek.is_(None))
        )
        for scope, version, shredded, count in counts.all():
            status = statuses.get(scope)
            if status is None:
                continue
            if shredded:
                status.shredded += int(count)
            else:
                status.keys_by_version[int(version)] = status.keys_by_version.get(int(version), 0) + int(count)
        lagging_index = await session.execute(select(TenantKey.key_scope, TenantKey.kek_version))
        for scope, version in lagging_index.all():
            status = statuses.get(scope)
            if status is not None and version < status.current_version:
                status.keys_by_version[int(version)] = status.keys_by_version.get(int(version), 0) + 1
    return sorted(statuses.values(), key=lambda s: s.scope)


async def master_key_status(db: Database) -> list[tuple[str, bool]]:
    """(master key id, retired) for every master key on record."""
    async with db.system_session(SystemReason.OPERATOR_CLI) as session:
        rows = await session.execute(
            select(MasterKeyRecord.key_id, MasterKeyRecord.retired_at).order_by(MasterKeyRecord.created_at)
        )
        return [(str(key_id), retired is not None) for key_id, retired in rows.all()]


async def rotate(
    db: Database,
    keys: KeyStore,
    *,
    scopes: list[str] | None = None,
    new_version: bool = True,
    batch_size: int = 500,
    max_batches: int | None = None,
    progress: Progress | None = None,
    clock: Clock = system_clock,
) -> RotationReport:
    """Rotate (or finish rotating) the KEKs of `scopes` (default: all).

    `new_version=False` only finishes what lags and moves scopes off a master key that is no longer
    current. `max_batches` stops early (tests use it to interrupt a rotation half-way).
    """
    report = RotationReport()
    batches = 0
    for status in await key_status(db):
        if scopes is not None and status.scope not in scopes:
            continue
        target = status.current_version
        if status.lagging:
            report.resumed[status.scope] = target
        elif new_version or status.current_master != keys.keyring.current_id:
            target = await _begin(db, keys, status.scope, status.current_version + 1, clock)
            report.started[status.scope] = target
        else:
            continue
        done = 0
        while True:
            if max_batches is not None and batches >= max_batches:
                report.interrupted = True
                return report
            moved, left = await _rewrap_batch(db, keys, status.scope, target, batch_size)
            batches += 1
            done += moved
            report.rewrapped += moved
            if progress is not None:
                progress(status.scope, done, left)
            if left == 0:
                break
        await _record(status.scope, target, done, clock)
    report.retired_versions, report.retired_masters = await _retire(db, keys, clock)
    keys.forget_all()
    return report


async def _begin(db: Database, keys: KeyStore, scope: str, version: int, clock: Clock) -> int:
    async with db.system_session(SystemReason.OPERATOR_CLI) as session:
        session.add(
            TenantKek(key_scope=scope, version=version, master_key_id=keys.keyring.current_id, created_at=clock.now())
        )
    keys.forget_all()
    return version


async def _rewrap_batch(db: Database, keys: KeyStore, scope: str, target: int, batch_size: int) -> tuple[int, int]:
    """Re-wrap up to `batch_size` lagging keys of `scope` in one transaction; returns (moved, still lagging)."""
    async with db.system_session(SystemReason.OPERATOR_CLI) as session:
        versions = {
            int(v): str(m)
            for v, m in (
                await session.execute(
                    select(TenantKek.version, TenantKek.master_key_id).where(TenantKek.key_scope == scope)
                )
            ).all()
        }
        new_kek = keys.keyring.kek(versions[target], scope, target)
        moved = 0
        index_row = (
            await session.execute(
                select(TenantKey.index_key_wrapped, TenantKey.kek_version).where(TenantKey.key_scope == scope)
            )
        ).first()
        if index_row is not None and index_row.kek_version < target:
            old = keys.keyring.kek(versions[index_row.kek_version], scope, index_row.kek_version)
            secret = unwrap(old, index_row.index_key_wrapped, index_key_binding(scope))
            await session.execute(
                update(TenantKey)
                .where(TenantKey.key_scope == scope, TenantKey.kek_version == index_row.kek_version)
                .values(index_key_wrapped=wrap(new_kek, secret, index_key_binding(scope)), kek_version=target)
            )
            moved += 1
        rows = (
            await session.execute(
                select(CustomerKey.id, CustomerKey.subject, CustomerKey.wrapped_dek, CustomerKey.kek_version)
                .where(
                    CustomerKey.key_scope == scope,
                    CustomerKey.kek_version < target,
                    CustomerKey.wrapped_dek.is_not(None),
                )
                .order_by(CustomerKey.id)
                .limit(batch_size)
                .with_for_update(skip_locked=True)
            )
        ).all()
        for row in rows:
            old = keys.keyring.kek(versions[row.kek_version], scope, row.kek_version)
            dek = unwrap(old, row.wrapped_dek, dek_binding(scope, row.subject))
            result = await session.execute(
                update(CustomerKey)
                .where(
                    CustomerKey.id == row.id,
                    CustomerKey.kek_version == row.kek_version,
                    CustomerKey.wrapped_dek.is_not(None),
                )
                .values(wrapped_dek=wrap(new_kek, dek, dek_binding(scope, row.subject)), kek_version=target)
            )
            moved += int(result.rowcount or 0)  # type: ignore[attr-defined]
        left = await _lagging(session, scope, target)
    return moved, left


async def _lagging(session: AsyncSession, scope: str, target: int) -> int:
    query = select(func.count()).where(
        CustomerKey.key_scope == scope, CustomerKey.kek_version < target, CustomerKey.wrapped_dek.is_not(None)
    )
    return int((await session.execute(query)).scalar_one())


async def _record(scope: str, version: int, rewrapped: int, clock: Clock) -> None:
    audit_log = audit_current()
    if audit_log is None or scope.startswith("_"):
        return
    await audit_log.record(
        EventType.KEY_CHANGED,
        tenant=scope,
        fields={"purpose": "kek", "action": "rotated", "key": f"kek:{scope}:v{version}"},
        at=clock.now(),
    )


async def _retire(db: Database, keys: KeyStore, clock: Clock) -> tuple[list[tuple[str, int]], list[str]]:
    now = clock.now()
    retired: list[tuple[str, int]] = []
    async with db.system_session(SystemReason.OPERATOR_CLI) as session:
        live = {
            (scope, int(version))
            for scope, version in (
                await session.execute(
                    select(CustomerKey.key_scope, CustomerKey.kek_version)
                    .where(CustomerKey.wrapped_dek.is_not(None))
                    .distinct()
                )
            ).all()
        }
        live |= {
            (s, int(v)) for s, v in (await session.execute(select(TenantKey.key_scope, TenantKey.kek_version))).all()
        }
        rows = (await session.execute(select(TenantKek).where(TenantKek.retired_at.is_(None)))).scalars().all()
        current: dict[str, int] = {}
        for row in rows:
            current[row.key_scope] = max(current.get(row.key_scope, 0), row.version)
        for row in rows:
            if row.version < current[row.key_scope] and (row.key_scope, row.version) not in live:
                row.retired_at = now
                retired.append((row.key_scope, row.version))
        await session.flush()
        needed = {
            m
            for (m,) in (
                await session.execute(select(TenantKek.master_key_id).where(TenantKek.retired_at.is_(None)))
            ).all()
        }
        needed.add(keys.keyring.current_id)
        masters = (
            (await session.execute(select(MasterKeyRecord).where(MasterKeyRecord.retired_at.is_(None)))).scalars().all()
        )
        retired_masters = []
        for master in masters:
            if master.key_id not in needed:
                master.retired_at = now
                retired_masters.append(master.key_id)
    return retired, retired_masters
