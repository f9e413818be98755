"""Cost of tenant isolation per query: the same ORM SELECT by primary key inside a tenant scope (ORM
filter, and on PostgreSQL `SET LOCAL` + row-level security as the application role) beside the
system scope (no filter; on PostgreSQL the policy's `OR scope = 'system'` branch), measured in the
same run. Reported per query and per transaction of 10 queries (one `SET LOCAL` each).

    .venv/bin/python bench/tenant_scope.py                    # SQLite and PostgreSQL
    .venv/bin/python bench/tenant_scope.py --backend sqlite
    .venv/bin/python bench/tenant_scope.py --smoke            # tiny sizes, non-zero exit on failure
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from datetime import UTC, datetime

from sqlalchemy import insert, select

from benchlib import temp_database
from loket.db.engine import Database
from loket.db.migrate import upgrade
from loket.db.models import Conversation, Tenant
from loket.db.rls import DEFAULT_APP_ROLE
from loket.db.scope import SystemReason, system_scope, tenant_scope

TENANTS = ("bench-a", "bench-b")
NOW = datetime(2026, 11, 29, tzinfo=UTC)


async def seed(db: Database, rows: int) -> None:
    async with db.system_session(SystemReason.DEMO_SEED) as session:
        for tenant in TENANTS:
            await session.execute(
                insert(Tenant).values(
                    id=tenant,
                    kind="bank",
                    legal_name=tenant,
                    display_name=tenant,
                    ojk_licence_number="-",
                    official_channels={},
                    created_at=NOW,
                )
            )
        await session.execute(
            insert(Conversation),
            [
                {"tenant_id": TENANTS[i % 2], "wa_id": f"62{i:010d}", "state": {}, "created_at": NOW, "updated_at": NOW}
                for i in range(rows)
            ],
        )


async def per_query(db: Database, queries: int, per_transaction: int) -> float:
    """Microseconds per SELECT, `per_transaction` SELECTs in each transaction."""
    started = time.perf_counter()
    done = 0
    while done < queries:
        async with db.transaction() as session:
            for _ in range(per_transaction):
                wa_id = f"62{(done * 2) % 1000:010d}"  # bench-a's rows
                found = (await session.execute(select(Conversation).where(Conversation.wa_id == wa_id))).first()
                if found is None and not done:
                    raise AssertionError("the tenant scope lost its own row")
                done += 1
    return (time.perf_counter() - started) / done * 1e6


async def measure(url: str, backend: str, queries: int) -> None:
    owner = Database(url)
    try:
        await upgrade(owner)
        await seed(owner, 1000)
    finally:
        await owner.dispose()
    role = DEFAULT_APP_ROLE if backend == "postgresql" else None
    db = Database(url, app_role=role)  # on PostgreSQL: the application role, row-level security on
    try:
        for per_transaction in (1, 10):
            runs: dict[str, list[float]] = {"system scope": [], "tenant scope": []}
            for round_ in range(4):  # interleaved, so a noisy moment hits both; round 0 warms the caches
                for label, tenant in (("system scope", None), ("tenant scope", TENANTS[0])):
                    ctx = tenant_scope(tenant) if tenant else system_scope(SystemReason.OPERATOR_CLI)
                    with ctx:
                        took = await per_query(db, queries if round_ else max(queries // 10, 10), per_transaction)
                    if round_:
                        runs[label].append(took)
            base, scoped = min(runs["system scope"]), min(runs["tenant scope"])
            print(
                f"{backend:10s} {per_transaction:2d} SELECT/transaction: tenant scope {scoped:7.1f} µs/query, "
                f"system scope (baseline) {base:7.1f} µs/query, overhead {scoped - base:+6.1f} µs "
                f"({(scoped / base - 1) * 100:+.1f}%)"
            )
    finally:
        await db.dispose()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--queries", type=int, default=3000)
    parser.add_argument("--smoke", action="store_true")
    args = parser.parse_args()
    queries = 50 if args.smoke else args.queries
    backends = ("sqlite", "postgresql") if args.backend == "both" else (args.backend,)
    for backend in backends:
        with temp_database(backend) as url:
            asyncio.run(measure(url, backend, queries))
    return 0


if __name__ == "__main__":
    sys.exit(main())
