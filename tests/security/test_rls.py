"""PostgreSQL row-level security, the second wall: raw SQL on the application role, past the ORM.

On SQLite there is no row-level security (the data layer is the wall: test_isolation_data_layer.py),
so these tests run on PostgreSQL only; `make test` runs the suite on both.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import pytest
from isolation_support import WA_A, WA_B, A, B, two_tenants
from sqlalchemy import select, text
from sqlalchemy.engine import make_url

from loket.db.engine import Database
from loket.db.models import Conversation
from loket.db.rls import DEFAULT_APP_ROLE, POLICY

SCOPE_A = "SELECT set_config('loket.tenant_id', 'bank-nusantara', true)"
NEW_B = (
    "INSERT INTO conversations (tenant_id, wa_id, state, created_at, updated_at) "
    "VALUES ($1, $2, '{}'::jsonb, now(), now())"
)


@pytest.fixture
async def raw(db: Database, database_url: str) -> AsyncIterator[asyncpg.Connection]:
    """A plain driver connection as the application role, after seeding two tenants."""
    if not db.is_postgres:
        pytest.skip("SQLite has no row-level security: the data layer is the wall (test_isolation_data_layer.py)")
    await two_tenants(db)
    url = make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)
    conn = await asyncpg.connect(url)
    try:
        yield conn
    finally:
        await conn.close()


async def test_the_app_connects_as_a_role_rls_binds(raw: asyncpg.Connection) -> None:
    role = await raw.fetchrow("SELECT rolname, rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user")
    assert role is not None and role["rolname"] == DEFAULT_APP_ROLE
    assert not role["rolsuper"] and not role["rolbypassrls"]
    owners = await raw.fetch("SELECT DISTINCT tableowner FROM pg_tables WHERE schemaname = 'public'")
    assert DEFAULT_APP_ROLE not in {row["tableowner"] for row in owners}


async def test_every_tenant_table_is_behind_forced_rls(raw: asyncpg.Connection) -> None:
    rows = await raw.fetch(
        "SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity, "
        "EXISTS (SELECT 1 FROM pg_policy p WHERE p.polrelid = c.oid AND p.polname = $1) AS has_policy "
        "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = 'public' AND c.relkind = 'r' AND EXISTS ("
        "  SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped)",
        POLICY,
    )
    assert len(rows) >= 20
    unprotected = [
        r["relname"] for r in rows if not (r["relrowsecurity"] and r["relforcerowsecurity"] and r["has_policy"])
    ]
    assert unprotected == [], f"call loket.db.rls.secure_tenant_table in the migration that adds {unprotected}"


async def test_without_a_scope_the_app_role_sees_and_writes_nothing(raw: asyncpg.Connection) -> None:
    for table in ("conversations", "phone_numbers"):
        assert await raw.fetchval(f"SELECT count(*) FROM {table}") == 0  # noqa: S608 - fixed names
    assert await raw.execute("UPDATE conversations SET language = 'en'") == "UPDATE 0"
    assert await raw.execute("DELETE FROM conversations") == "DELETE 0"
    with pytest.raises(asyncpg.InsufficientPrivilegeError, match="row-level security"):
        await raw.execute(NEW_B, A, "628999")


async def test_scope_a_cannot_read_change_delete_or_insert_b(raw: asyncpg.Connection) -> None:
    async with raw.transaction():
        await raw.execute(SCOPE_A)
        seen = await raw.fetch("SELECT tenant_id, wa_id FROM conversations")
        assert [(r["tenant_id"], r["wa_id"]) for r in seen] == [(A, WA_A)]
        assert await raw.fetchval("SELECT count(*) FROM conversations WHERE tenant_id = $1 OR wa_id = $2", B, WA_B) == 0
        assert {r["tenant_id"] for r in await raw.fetch("SELECT tenant_id FROM phone_numbers")} == {A}
        assert await raw.execute("UPDATE conversations SET language = 'en' WHERE tenant_id = $1", B) == "UPDATE 0"
        assert await raw.execute("DELETE FROM conversations WHERE wa_id = $1", WA_B) == "DELETE 0"
    with pytest.raises(asyncpg.InsufficientPrivilegeError, match="row-level security"):
        async with raw.transaction():
            await raw.execute(SCOPE_A)
            await raw.execute(NEW_B, B, "628998")
    with pytest.raises(asyncpg.InsufficientPrivilegeError, match="row-level security"):
        async with raw.transaction():
            await raw.execute(SCOPE_A)
            await raw.execute("UPDATE conversations SET tenant_id = $1 WHERE wa_id = $2", B, WA_A)


async def test_the_scope_ends_with_its_transaction(raw: asyncpg.Connection) -> None:
    async with raw.transaction():
        await raw.execute(SCOPE_A)
        assert await raw.fetchval("SELECT count(*) FROM conversations") == 1
    # Same connection, next transaction (what a pool hands the next request): nothing carried over.
    assert await raw.fetchval("SELECT count(*) FROM conversations") == 0
    assert await raw.fetchval("SELECT current_setting('loket.tenant_id', true)") == ""


async def test_a_session_level_set_cannot_smuggle_a_tenant_in_a_way_the_app_would(raw: asyncpg.Connection) -> None:
    # The app only ever uses SET LOCAL; a tenant id that is not exactly a row's tenant matches nothing.
    async with raw.transaction():
        await raw.execute("SELECT set_config('loket.tenant_id', $1, true)", f"{A}' OR '1'='1")
        assert await raw.fetchval("SELECT count(*) FROM conversations") == 0
        await raw.execute("SELECT set_config('loket.scope', 'System', true)")
        assert await raw.fetchval("SELECT count(*) FROM conversations") == 0


async def test_orm_and_raw_sql_through_database_agree(db: Database, database_url: str, raw: asyncpg.Connection) -> None:
    app = Database(database_url)
    try:
        async with app.tenant_session(B) as session:
            orm = (await session.execute(select(Conversation.wa_id))).scalars().all()
            # text() bypasses the ORM filter: only the policy stands between it and tenant A
            sql = (await session.execute(text("SELECT wa_id FROM conversations"))).scalars().all()
        assert orm == [WA_B] and sql == [WA_B]
        async with app.connect() as conn:  # a Core connection without a scope
            assert (await conn.execute(text("SELECT count(*) FROM conversations"))).scalar_one() == 0
    finally:
        await app.dispose()


async def test_set_role_on_connect_for_an_owner_url(owner_db: Database, raw: asyncpg.Connection) -> None:
    """LOKET_DATABASE_APP_ROLE: the owner's URL, but every connection drops to the app role."""
    app = Database(owner_db.url, app_role=DEFAULT_APP_ROLE)
    try:
        async with app.tenant_session(A) as session:
            assert (await session.execute(text("SELECT current_user"))).scalar_one() == DEFAULT_APP_ROLE
            assert (await session.execute(text("SELECT wa_id FROM conversations"))).scalars().all() == [WA_A]
    finally:
        await app.dispose()
    with pytest.raises(ValueError, match="role name"):
        Database(owner_db.url, app_role='x"; DROP TABLE tenants; --')


async def test_on_every_tenant_table_scope_a_sees_no_other_tenant_and_no_scope_sees_nothing(
    raw: asyncpg.Connection,
) -> None:
    tables = [
        r["table_name"]
        for r in await raw.fetch(
            "SELECT table_name FROM information_schema.columns "
            "WHERE table_schema = 'public' AND column_name = 'tenant_id'"
        )
    ]
    assert len(tables) >= 20
    for table in tables:  # names from the catalogue, quoted
        assert await raw.fetchval(f'SELECT count(*) FROM "{table}"') == 0, table  # noqa: S608
        async with raw.transaction():
            await raw.execute(SCOPE_A)
            others = await raw.fetchval(f'SELECT count(*) FROM "{table}" WHERE tenant_id IS DISTINCT FROM $1', A)  # noqa: S608
            assert others == 0, table
