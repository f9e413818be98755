"""Shared fixtures. The whole suite runs once per database: LOKET_TEST_DATABASE=sqlite|postgresql.

Each test gets its own database cloned from a migrated template (a file copy on SQLite,
CREATE DATABASE ... TEMPLATE on PostgreSQL), so tests are isolated and cheap.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import pytest

from loket.config import Mode, Settings
from loket.db.engine import Database
from loket.db.migrate import upgrade
from support import TEST_APP_SECRET, TEST_MASTER_KEY, TEST_VERIFY_TOKEN

BACKEND = os.environ.get("LOKET_TEST_DATABASE", "sqlite")
PG_ADMIN_URL = os.environ.get("LOKET_TEST_PG_ADMIN", "postgresql://postgres@127.0.0.1:5432/postgres")
_counter = itertools.count()


def _pg_url(name: str) -> str:
    return PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name


async def _pg_admin(sql: str) -> None:
    conn = await asyncpg.connect(PG_ADMIN_URL.replace("postgresql://", "postgres://", 1))
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


async def _migrate(url: str) -> None:
    db = Database(url)
    try:
        await upgrade(db)
    finally:
        await db.dispose()


@pytest.fixture(scope="session")
def db_template(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A migrated database to clone: a file path on SQLite, a database name on PostgreSQL."""
    if BACKEND == "sqlite":
        path = tmp_path_factory.mktemp("template") / "template.db"
        asyncio.run(_migrate(f"sqlite:///{path}"))
        yield str(path)
        return
    if BACKEND != "postgresql":
        raise RuntimeError(f"LOKET_TEST_DATABASE must be sqlite or postgresql, not {BACKEND!r}")
    name = f"loket_tpl_{os.getpid()}"

    async def create() -> None:
        await _pg_admin(f"DROP DATABASE IF EXISTS {name}")
        await _pg_admin(f"CREATE DATABASE {name}")
        await _migrate(_pg_url(name))

    asyncio.run(create())
    yield name
    asyncio.run(_pg_admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))


@pytest.fixture
def database_url(db_template: str, tmp_path: Path) -> Iterator[str]:
    if BACKEND == "sqlite":
        path = tmp_path / "loket.db"
        shutil.copyfile(db_template, path)
        yield f"sqlite:///{path}"
        return
    name = f"loket_t_{os.getpid()}_{next(_counter)}"
    asyncio.run(_pg_admin(f"CREATE DATABASE {name} TEMPLATE {db_template}"))
    yield _pg_url(name)
    asyncio.run(_pg_admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    database = Database(database_url)
    yield database
    await database.dispose()


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(
        mode=Mode.DEMO,
        database_url=database_url,
        meta_app_secret=TEST_APP_SECRET,
        webhook_verify_token=TEST_VERIFY_TOKEN,
        master_key=TEST_MASTER_KEY,
        var_dir=tmp_path / "var",
        graph_api_url="http://127.0.0.1:9/v23.0",
    )
