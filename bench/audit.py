"""Audit log benchmark: appends per second (single and batched) beside a plain insert loop, time to
verify a large log, and inclusion-proof size and time from 10^3 to 10^7 leaves.

    .venv/bin/python bench/audit.py                      # SQLite in a temp file
    .venv/bin/python bench/audit.py --database-url postgresql://postgres@127.0.0.1:5432/postgres
    .venv/bin/python bench/audit.py --smoke              # tiny sizes, < 20 s, non-zero exit on failure

On PostgreSQL a temporary database is created next to the one named in the URL and dropped after.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import asyncpg
from sqlalchemy import text

from loket.audit import merkle
from loket.audit.canonical import Pseudonymizer
from loket.audit.checkpoints import cut_checkpoint, inclusion_proof
from loket.audit.events import EventType
from loket.audit.keys import KeyRing
from loket.audit.log import AuditEvent, AuditLog
from loket.audit.verify_db import verify_database
from loket.db.engine import Database
from loket.db.migrate import upgrade
from loket.db.scope import OPERATOR
from loket.security.secretbox import SecretBox

MASTER = os.urandom(32)
WRITERS = 4


@dataclass
class Sizes:
    single: int
    batched: int
    batch: int
    verify: int
    proof_exponents: tuple[int, ...]


FULL = Sizes(single=2_000, batched=200_000, batch=2_500, verify=1_000_000, proof_exponents=(3, 4, 5, 6, 7))
SMOKE = Sizes(single=100, batched=4_000, batch=1_000, verify=5_000, proof_exponents=(3, 4, 5, 6, 7))


def event(i: int, tenant: str) -> AuditEvent:
    return AuditEvent(
        EventType.MESSAGE_RECEIVED,
        tenant,
        {"wamid": f"wamid.{i}", "phone_number_id": "109876543210001", "customer": f"62812{i:08d}", "kind": "text"},
    )


async def rate(count: int, step: int, work: Callable[[int], Awaitable[None]]) -> float:
    started = time.perf_counter()
    for start in range(0, count, step):
        await work(start)
    return count / (time.perf_counter() - started)


async def plain_baseline(db: Database, sizes: Sizes) -> tuple[float, float]:
    """The same rows into a table with no Merkle state: what an unverifiable log would cost."""
    async with db.connect() as conn:
        await conn.execute(
            text(
                "CREATE TABLE bench_plain (tenant_id VARCHAR(64), seq BIGINT, payload TEXT,"
                " PRIMARY KEY (tenant_id, seq))"
            )
        )
    insert = text("INSERT INTO bench_plain (tenant_id, seq, payload) VALUES (:t, :s, :p)")
    payload = '{"wamid":"wamid.x","kind":"text","customer":"hmac1:xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"}'

    async def one(i: int) -> None:
        async with db.connect() as conn:
            await conn.execute(insert, {"t": "single", "s": i, "p": payload})

    async def many(i: int) -> None:
        async with db.connect() as conn:
            await conn.execute(insert, [{"t": "batched", "s": i + k, "p": payload} for k in range(sizes.batch)])

    return await rate(sizes.single, 1, one), await rate(sizes.batched, sizes.batch, many)


async def audit_appends(log: AuditLog, sizes: Sizes) -> tuple[float, float, float]:
    async def one(i: int) -> None:
        await log.record_many([event(i, "single")])

    async def many(i: int) -> None:
        await log.record_many([event(i + k, "batched") for k in range(sizes.batch)])

    async def concurrent(i: int) -> None:
        # several writers on one tenant, as several workers would be: one drafts while another appends
        step = sizes.batch
        await asyncio.gather(
            *(log.record_many([event(i + w * step + k, "concurrent") for k in range(step)]) for w in range(WRITERS))
        )

    single = await rate(sizes.single, 1, one)
    batched = await rate(sizes.batched, sizes.batch, many)
    together = await rate(sizes.batched, sizes.batch * WRITERS, concurrent)
    return single, batched, together


async def fill(log: AuditLog, tenant: str, count: int, batch: int) -> None:
    for start in range(0, count, batch):
        await log.record_many([event(start + k, tenant) for k in range(min(batch, count - start))])


def proofs_in_memory(exponents: tuple[int, ...]) -> list[tuple[int, float, int, float]]:
    """A tree whose leaves are all the same record is a valid RFC 6962 tree whose stored hash at
    (level, index) depends only on the level, so 10^7 leaves need no 10^7 hashes in memory; proof
    construction and verification do exactly the work they do on a real tree (same ranges, same folds)."""
    data = b'{"bench":true}'
    per_level = [merkle.leaf_hash(data)]
    for _ in range(64):
        per_level.append(merkle.node_hash(per_level[-1], per_level[-1]))
    rows = []
    rng = random.Random(6962)
    for exponent in exponents:
        n = 10**exponent
        root = merkle.fold([per_level[level] for level, _ in merkle.dyadic(0, n)])
        samples, sizes = [], []
        for _ in range(200):
            index = rng.randrange(n)
            started = time.perf_counter()
            proof = merkle.build_proof(merkle.inclusion_ranges(index, n), lambda c: per_level[c[0]])
            merkle.verify_inclusion(index, n, per_level[0], proof, root)
            samples.append(time.perf_counter() - started)
            sizes.append(len(proof))
        rows.append((n, statistics.mean(sizes), max(sizes) * 32, statistics.median(samples) * 1e6))
    return rows


async def proofs_from_db(db: Database, tenant: str, n: int, root: bytes) -> tuple[float, int]:
    rng = random.Random(9162)
    samples, size = [], 0
    async with db.sessions() as session:
        for _ in range(50):
            index = rng.randrange(n)
            started = time.perf_counter()
            leaf, proof = await inclusion_proof(session, tenant, index, n)
            samples.append(time.perf_counter() - started)
            merkle.verify_inclusion(index, n, leaf, proof, root)  # raises on a wrong proof
            size = max(size, len(proof))
    return statistics.median(samples) * 1e3, size


async def _pg_admin(url: str, sql: str) -> None:
    conn = await asyncpg.connect(url.replace("postgresql://", "postgres://", 1))
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


async def run(url: str, sizes: Sizes) -> list[str]:
    db = Database(url, default_scope=OPERATOR)
    lines: list[str] = []
    try:
        await upgrade(db, "heads")
        log = AuditLog(db, Pseudonymizer(MASTER))
        ring = KeyRing(db, SecretBox(MASTER), origin_base="bench.loket")
        plain_single, plain_batched = await plain_baseline(db, sizes)
        audit_single, audit_batched, audit_concurrent = await audit_appends(log, sizes)
        lines.append(f"database: {db.dialect}")
        lines.append(f"{'appends/s':<34}{'single':>12}{'batched':>12}{f'{WRITERS} writers':>12}")
        lines.append(f"{'  plain insert loop (baseline)':<34}{plain_single:>12,.0f}{plain_batched:>12,.0f}{'':>12}")
        audit_row = f"{audit_single:>12,.0f}{audit_batched:>12,.0f}{audit_concurrent:>12,.0f}"
        lines.append(f"{'  audit log (Merkle, O(log n))':<34}{audit_row}")
        lines.append(f"  (batch = {sizes.batch:,} entries per transaction, {sizes.batched:,} entries per column)")
        started = time.perf_counter()
        await fill(log, "verify", sizes.verify, 5_000)
        filled = time.perf_counter() - started
        signed = await cut_checkpoint(ring, "verify")
        started = time.perf_counter()
        report = await verify_database(db, "verify")
        verified = time.perf_counter() - started
        if not report.ok or report.end != sizes.verify:
            raise SystemExit(f"verification failed: {report.lines()}")
        lines.append(f"verify {sizes.verify:,} entries: {verified:.1f} s (leaves, stored nodes, head, checkpoint)")
        lines.append(f"  (filled at {sizes.verify / filled:,.0f} appends/s in batches of 5,000)")
        db_ms, db_len = await proofs_from_db(db, "verify", sizes.verify, signed.checkpoint.root)
        lines.append(f"inclusion proof from the database at {sizes.verify:,} leaves: {db_len} hashes, {db_ms:.2f} ms")
        lines.append(f"{'leaves':>12}{'proof hashes (mean)':>22}{'max bytes':>12}{'build+verify us':>18}")
        for n, mean_len, max_bytes, micros in proofs_in_memory(sizes.proof_exponents):
            lines.append(f"{n:>12,}{mean_len:>22.1f}{max_bytes:>12}{micros:>18.1f}")
    finally:
        await db.dispose()
    return lines


async def main_async(args: argparse.Namespace) -> list[str]:
    sizes = SMOKE if args.smoke else FULL
    if args.database_url and args.database_url.startswith(("postgresql://", "postgres://")):
        admin = args.database_url
        name = f"loket_bench_audit_{os.getpid()}"
        await _pg_admin(admin, f"CREATE DATABASE {name}")
        try:
            return await run(admin.rsplit("/", 1)[0] + "/" + name, sizes)
        finally:
            await _pg_admin(admin, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    if args.database_url:
        return await run(args.database_url, sizes)
    with tempfile.TemporaryDirectory() as tmp:
        return await run(f"sqlite:///{Path(tmp) / 'bench.db'}", sizes)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--smoke", action="store_true", help="tiny sizes: a quick correctness run")
    parser.add_argument("--database-url", default=None, help="sqlite:///path or postgresql://user@host:port/db")
    args = parser.parse_args()
    started = time.perf_counter()
    lines = asyncio.run(main_async(args))
    print("\n".join(lines))
    print(f"total {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
