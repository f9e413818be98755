"""Reading and appending the stored log. Appends lock the tenant's head row, so the sequence stays
dense with any number of writers and processes: PostgreSQL takes a row lock with the UPDATE, and on
SQLite the UPDATE takes the database write lock (single writer)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, func, insert, select, union_all, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from loket.audit.canonical import Entry, canonical
from loket.audit.merkle import Coord, ProofError, TreeBuilder
from loket.audit.tables import AuditEntry, AuditHead, AuditNode
from loket.db.upsert import insert_ignore

Executor = AsyncSession | AsyncConnection
CHUNK = 5000
BULK_THRESHOLD = 64
ENTRIES = cast(Table, AuditEntry.__table__)
NODES = cast(Table, AuditNode.__table__)


@dataclass(frozen=True, slots=True)
class Draft:
    """An event ready for the log: validated, personal values already replaced by pseudonyms."""

    type: str
    at: datetime
    actor: str | None
    fields: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Receipt:
    tenant: str
    index: int
    leaf_hash: bytes


@dataclass(frozen=True, slots=True)
class Head:
    tenant: str
    size: int
    frontier: bytes
    updated_at: datetime | None

    def root(self) -> bytes:
        return TreeBuilder.from_blob(self.size, self.frontier).root()


ENTRY_COLUMNS_ORDER = ("tenant_id", "seq", "event_type", "occurred_at", "actor", "fields", "leaf_hash")
NODE_COLUMNS_ORDER = ("tenant_id", "level", "idx", "hash")


# One INSERT ... SELECT FROM unnest() per table: as fast as COPY for these batches, and unlike COPY
# it is allowed on tables under row-level security (the application role's tables are).
_UNNEST_ENTRIES = (
    f"INSERT INTO {ENTRIES.name} ({', '.join(ENTRY_COLUMNS_ORDER)}) "  # noqa: S608 - names from the schema
    "SELECT * FROM unnest($1::varchar[], $2::bigint[], $3::varchar[], $4::timestamptz[], $5::varchar[], "
    "$6::text[], $7::bytea[])"
)
_UNNEST_NODES = (
    f"INSERT INTO {NODES.name} ({', '.join(NODE_COLUMNS_ORDER)}) "  # noqa: S608 - names from the schema
    "SELECT * FROM unnest($1::varchar[], $2::smallint[], $3::bigint[], $4::bytea[])"
)


async def _bulk_insert(ex: Executor, rows: list[tuple[Any, ...]], nodes: list[tuple[Any, ...]]) -> None:
    """PostgreSQL bulk insert on the caller's connection, inside its transaction: several times
    faster than a multi-row INSERT for large batches."""
    connection = ex if isinstance(ex, AsyncConnection) else await ex.connection()
    raw: Any = (await connection.get_raw_connection()).driver_connection
    await raw.execute(_UNNEST_ENTRIES, *(list(column) for column in zip(*rows, strict=True)))
    if nodes:
        await raw.execute(_UNNEST_NODES, *(list(column) for column in zip(*nodes, strict=True)))


def dialect_of(ex: Executor) -> str:
    if isinstance(ex, AsyncConnection):
        return ex.dialect.name
    return ex.get_bind().dialect.name


async def lock_head(ex: Executor, tenant: str, now: datetime) -> tuple[int, bytes]:
    touch = (
        update(AuditHead)
        .where(AuditHead.tenant_id == tenant)
        .values(size=AuditHead.size)
        .returning(AuditHead.size, AuditHead.frontier)
    )
    row = (await ex.execute(touch)).first()
    if row is None:
        fresh = {"tenant_id": tenant, "size": 0, "frontier": b"", "updated_at": now}
        await ex.execute(insert_ignore(dialect_of(ex), AuditHead, "tenant_id").values(**fresh))
        row = (await ex.execute(touch)).first()
        assert row is not None
    return int(row[0]), bytes(row[1])


async def append(ex: Executor, tenant: str, drafts: Sequence[Draft], now: datetime) -> list[Receipt]:
    """Append drafts to the tenant's log inside the caller's transaction; O(log n) per entry."""
    size, frontier = await lock_head(ex, tenant, now)
    builder = TreeBuilder.from_blob(size, frontier)
    rows: list[tuple[Any, ...]] = []
    nodes: list[tuple[Any, ...]] = []
    receipts: list[Receipt] = []
    for draft in drafts:
        index = builder.size
        digest = Entry(tenant, index, draft.type, draft.at, draft.actor, draft.fields).leaf_hash()
        text = canonical(draft.fields).decode()
        rows.append((tenant, index, draft.type, draft.at, draft.actor, text, digest))
        receipts.append(Receipt(tenant, index, digest))
        for level, idx, value in builder.push(0, digest):
            nodes.append((tenant, level, idx, value))
    if len(rows) >= BULK_THRESHOLD and dialect_of(ex) == "postgresql":
        await _bulk_insert(ex, rows, nodes)
    else:
        if rows:
            await ex.execute(insert(ENTRIES), [dict(zip(ENTRY_COLUMNS_ORDER, r, strict=True)) for r in rows])
        if nodes:
            await ex.execute(insert(NODES), [dict(zip(NODE_COLUMNS_ORDER, n, strict=True)) for n in nodes])
    await ex.execute(
        update(AuditHead)
        .where(AuditHead.tenant_id == tenant)
        .values(size=builder.size, frontier=builder.blob(), updated_at=now)
    )
    return receipts


async def head(ex: Executor, tenant: str) -> Head:
    row = (
        await ex.execute(
            select(AuditHead.size, AuditHead.frontier, AuditHead.updated_at).where(AuditHead.tenant_id == tenant)
        )
    ).first()
    if row is None:
        return Head(tenant, 0, b"", None)
    return Head(tenant, int(row[0]), bytes(row[1]), row[2])


async def heads(ex: Executor) -> list[Head]:
    rows = await ex.execute(select(AuditHead.tenant_id, AuditHead.size, AuditHead.frontier, AuditHead.updated_at))
    return [Head(r[0], int(r[1]), bytes(r[2]), r[3]) for r in rows]


async def stored_hashes(ex: Executor, tenant: str, coords: Iterable[Coord]) -> dict[Coord, bytes]:
    """The stored hashes at these coordinates; raises ProofError if any is missing."""
    wanted = set(coords)
    found: dict[Coord, bytes] = {}
    leaves = sorted(i for level, i in wanted if level == 0)
    inner = sorted(c for c in wanted if c[0] > 0)
    for start in range(0, len(leaves), 500):
        part = leaves[start : start + 500]
        query = select(AuditEntry.seq, AuditEntry.leaf_hash).where(
            AuditEntry.tenant_id == tenant, AuditEntry.seq.in_(part)
        )
        for seq, value in await ex.execute(query):
            found[(0, int(seq))] = bytes(value)
    by_level: dict[int, list[int]] = {}
    for level, idx in inner:
        by_level.setdefault(level, []).append(idx)
    if by_level:
        # one index range per level, glued with UNION ALL: SQLite does not drive an OR of row values
        # or of per-level IN lists through the primary key
        parts = [
            select(AuditNode.level, AuditNode.idx, AuditNode.hash).where(
                AuditNode.tenant_id == tenant, AuditNode.level == level, AuditNode.idx.in_(idxs)
            )
            for level, idxs in by_level.items()
        ]
        for level, idx, value in await ex.execute(union_all(*parts)):
            found[(int(level), int(idx))] = bytes(value)
    missing = wanted - set(found)
    if missing:
        raise ProofError(f"stored hashes missing for tenant {tenant}: {sorted(missing)[:5]}")
    return found


ENTRY_COLUMNS = (
    AuditEntry.tenant_id,
    AuditEntry.seq,
    AuditEntry.event_type,
    AuditEntry.occurred_at,
    AuditEntry.actor,
    AuditEntry.fields,
    AuditEntry.leaf_hash,
)


def entry_of(row: Any) -> Entry:
    return Entry(row[0], int(row[1]), row[2], row[3], row[4], row[5])


async def stream_entries(
    ex: Executor, tenant: str, *, start: int = 0, stop: int | None = None
) -> AsyncIterator[tuple[Entry, bytes]]:
    """Entries in sequence order with their recorded leaf hashes, read in chunks (Core, no ORM)."""
    conn = ex if isinstance(ex, AsyncConnection) else await ex.connection()
    cursor = start
    while True:
        query = select(*ENTRY_COLUMNS).where(AuditEntry.tenant_id == tenant, AuditEntry.seq >= cursor)
        if stop is not None:
            query = query.where(AuditEntry.seq < stop)
        rows = (await conn.execute(query.order_by(AuditEntry.seq).limit(CHUNK))).all()
        if not rows:
            return
        for row in rows:
            yield entry_of(row), bytes(row[6])
        cursor = int(rows[-1][1]) + 1


async def seq_range(session: AsyncSession, tenant: str, start: datetime, end: datetime) -> tuple[int, int] | None:
    """First and one-past-last index of the entries that occurred in [start, end)."""
    query = select(func.min(AuditEntry.seq), func.max(AuditEntry.seq)).where(
        AuditEntry.tenant_id == tenant, AuditEntry.occurred_at >= start, AuditEntry.occurred_at < end
    )
    row = (await session.execute(query)).first()
    if row is None or row[0] is None:
        return None
    return int(row[0]), int(row[1]) + 1
