from __future__ import annotations

import pytest
from sqlalchemy import text

from loket.db.engine import Database
from loket.db.migrate import SchemaError, check_schema, current_revision, head_revision, upgrade


async def test_template_is_at_head(db: Database) -> None:
    assert await current_revision(db) == head_revision()
    await check_schema(db)


async def test_upgrade_is_idempotent(db: Database) -> None:
    await upgrade(db)
    assert await current_revision(db) == head_revision()


async def test_refuses_a_schema_newer_than_it_knows(db: Database, owner_db: Database) -> None:
    async with owner_db.connect() as conn:  # the app role may read the revision, not write it
        await conn.execute(text("UPDATE alembic_version SET version_num = '9999_from_the_future'"))
    with pytest.raises(SchemaError, match="newer than this Loket knows"):
        await check_schema(db)
    with pytest.raises(SchemaError, match="newer"):
        await upgrade(db)


async def test_empty_database_asks_for_migrate(tmp_path: object) -> None:
    db = Database(f"sqlite:///{tmp_path}/empty.db")
    try:
        with pytest.raises(SchemaError, match="loket migrate"):
            await check_schema(db)
    finally:
        await db.dispose()
