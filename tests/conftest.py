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
from sqlalchemy.engine import make_url

from loket.config import Mode, Settings
from loket.db.engine import Database
from loket.db.migrate import upgrade
from support import TEST_APP_SECRET, TEST_MASTER_KEY, TEST_SCOPE, TEST_VERIFY_TOKEN

BACKEND = os.environ.get("LOKET_TEST_DATABASE", "sqlite")
PG_ADMIN_URL = os.environ.get("LOKET_TEST_PG_ADMIN", "postgresql://postgres@127.0.0.1:5432/postgres")
_counter = itertools.count()


def _pg_url(name: str) -> str:
    return PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name


# Tenant isolation (docs/tenant-isolation.md): on PostgreSQL the whole suite connects as the
# non-owner application role, so row-level security is active in every test; migrations run as the
# admin (owner). The role is cluster-wide, made LOGIN here (the migration creates it NOLOGIN).
APP_ROLE = "loket_app"
_ENSURE_APP_ROLE = """DO $$ BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'loket_app') THEN
    CREATE ROLE loket_app LOGIN NOSUPERUSER NOBYPASSRLS;
  ELSIF NOT (SELECT rolcanlogin FROM pg_roles WHERE rolname = 'loket_app') THEN
    ALTER ROLE loket_app LOGIN;
  END IF;
EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
END $$"""


def _pg_app_url(name: str) -> str:
    """The URL the code under test uses: the same server and database as the app role."""
    base = make_url(_pg_url(name))
    return base.set(username=APP_ROLE, password=None).render_as_string(hide_password=False)


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
        await _pg_admin(_ENSURE_APP_ROLE)
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
    yield _pg_app_url(name)
    asyncio.run(_pg_admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    # The test's own handle seeds and inspects across tenants; the app under test builds its own,
    # strictly scoped Database from `settings` (loket.db.scope).
    database = Database(database_url, default_scope=TEST_SCOPE)
    yield database
    await database.dispose()


@pytest.fixture
async def owner_db(database_url: str) -> AsyncIterator[Database]:
    """The same database as the tables' owner (migrations, schema surgery); `db` is the app role."""
    url = database_url
    if BACKEND == "postgresql":
        admin = make_url(PG_ADMIN_URL)
        url = make_url(database_url).set(username=admin.username, password=admin.password).render_as_string(False)
    database = Database(url, default_scope=TEST_SCOPE)
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
