"""The data-layer wall (both engines): a transaction sees and writes only its tenant's rows, and
one without a scope sees none and writes none. On SQLite this is the only wall; on PostgreSQL
row-level security stands behind it (test_rls.py)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from isolation_support import NOW, WA_A, WA_B, A, B, two_tenants
from sqlalchemy import delete, func, insert, select, update

from loket.db.engine import Database
from loket.db.models import Conversation, PhoneNumber, Tenant
from loket.db.scope import ScopeError, SystemReason, current_scope, system_scope, tenant_scope


@pytest.fixture
async def app_db(db: Database) -> AsyncIterator[Database]:
    """What the application holds: the same database, no default scope."""
    await two_tenants(db)
    app = Database(db.url)
    yield app
    await app.dispose()


async def test_a_tenant_session_sees_only_its_rows(app_db: Database) -> None:
    async with app_db.tenant_session(A) as session:
        conversations = (await session.execute(select(Conversation.tenant_id, Conversation.wa_id))).all()
        numbers = (await session.execute(select(PhoneNumber.tenant_id))).scalars().all()
        crafted_filter = (Conversation.tenant_id == B) | (Conversation.wa_id == WA_B)
        crafted = (await session.execute(select(Conversation).where(crafted_filter))).all()
        counted = (await session.execute(select(func.count()).select_from(Conversation))).scalar_one()
    assert conversations == [(A, WA_A)]
    assert set(numbers) == {A}
    assert crafted == [] and counted == 1


async def test_a_tenant_session_cannot_change_or_delete_another_tenants_rows(app_db: Database) -> None:
    async with app_db.tenant_session(A) as session:
        changed = await session.execute(update(Conversation).where(Conversation.wa_id == WA_B).values(language="en"))
        removed = await session.execute(delete(Conversation).where(Conversation.tenant_id == B))
    assert changed.rowcount == 0 and removed.rowcount == 0  # type: ignore[attr-defined]
    async with app_db.system_session(SystemReason.OPERATOR_CLI) as session:
        row = (await session.execute(select(Conversation).where(Conversation.wa_id == WA_B))).scalar_one()
    assert row.language == "id"


async def test_a_tenant_session_cannot_write_rows_of_another_tenant(app_db: Database) -> None:
    with pytest.raises(ScopeError):
        async with app_db.tenant_session(A) as session:
            session.add(Conversation(tenant_id=B, wa_id="628333", state={}, created_at=NOW, updated_at=NOW))
    with pytest.raises(ScopeError):
        async with app_db.tenant_session(A) as session:
            await session.execute(
                insert(Conversation).values(tenant_id=B, wa_id="628334", state={}, created_at=NOW, updated_at=NOW)
            )
    with pytest.raises(ScopeError):
        async with app_db.tenant_session(A) as session:
            mine = (await session.execute(select(Conversation))).scalar_one()
            mine.tenant_id = B  # moving a row to another tenant
    async with app_db.tenant_session(A) as session:  # its own tenant: fine
        session.add(Conversation(tenant_id=A, wa_id="628335", state={}, created_at=NOW, updated_at=NOW))


async def test_without_a_scope_nothing_is_seen_and_nothing_written(app_db: Database) -> None:
    assert current_scope() is None
    async with app_db.transaction() as session:
        assert (await session.execute(select(Conversation))).all() == []
        assert (await session.execute(select(PhoneNumber))).all() == []
        gone = await session.execute(delete(Conversation))
        assert gone.rowcount == 0  # type: ignore[attr-defined]
        # the directory of institutions is not tenant data (public names and licence numbers)
        assert len((await session.execute(select(Tenant))).all()) == 2
    with pytest.raises(ScopeError):
        async with app_db.transaction() as session:
            session.add(Conversation(tenant_id=A, wa_id="628336", state={}, created_at=NOW, updated_at=NOW))
    with pytest.raises(ScopeError):
        async with app_db.transaction() as session:
            await session.execute(
                insert(Conversation).values(tenant_id=A, wa_id="628337", state={}, created_at=NOW, updated_at=NOW)
            )


async def test_the_scope_is_fixed_when_the_transaction_begins(app_db: Database) -> None:
    with tenant_scope(A):
        async with app_db.transaction() as session:
            await session.execute(select(Conversation))  # begins inside A
            with tenant_scope(B):
                rows = (await session.execute(select(Conversation.tenant_id))).scalars().all()
    assert rows == [A]


async def test_the_system_scope_spans_tenants_and_needs_a_listed_reason(app_db: Database) -> None:
    with system_scope(SystemReason.OPERATOR_CLI):
        async with app_db.transaction() as session:
            tenants = set((await session.execute(select(Conversation.tenant_id))).scalars())
    assert tenants == {A, B}
    with pytest.raises(TypeError):
        system_scope("because")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="tenant id"):
        tenant_scope(" ")


async def test_scopes_do_not_leak_between_concurrent_tasks(app_db: Database) -> None:
    async def read(tenant: str) -> set[str]:
        with tenant_scope(tenant):
            await asyncio.sleep(0.01)
            async with app_db.transaction() as session:
                return set((await session.execute(select(Conversation.tenant_id))).scalars())

    seen = await asyncio.gather(*(read(A if i % 2 else B) for i in range(10)))
    assert seen == [{A} if i % 2 else {B} for i in range(10)]


async def test_a_multi_row_insert_ignore_in_a_tenant_scope(app_db: Database) -> None:
    """The outbox's many-rows form (`insert_ignore` with a list of rows) passes the check for its own
    tenant and is refused when one row names another tenant."""
    from loket.db.upsert import insert_ignore

    def row(tenant: str, wa_id: str) -> dict[str, object]:
        return {"tenant_id": tenant, "wa_id": wa_id, "state": {}, "created_at": NOW, "updated_at": NOW}

    async with app_db.tenant_session(A) as session:
        statement = insert_ignore(app_db.dialect, Conversation, "tenant_id", "wa_id")
        await session.execute(statement, [row(A, "628401"), row(A, "628402")])
    with pytest.raises(ScopeError):
        async with app_db.tenant_session(A) as session:
            statement = insert_ignore(app_db.dialect, Conversation, "tenant_id", "wa_id")
            await session.execute(statement, [row(A, "628403"), row(B, "628404")])
    async with app_db.tenant_session(A) as session:
        stored = (await session.execute(select(Conversation.wa_id).where(Conversation.wa_id.like("6284%")))).scalars()
        assert sorted(stored) == ["628401", "628402"]
