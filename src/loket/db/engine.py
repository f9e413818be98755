"""Engines and sessions: async drivers picked from a plain sqlite:/// or postgresql:// URL."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.pool import AsyncAdaptedQueuePool

from loket.db.scope import Scope, SystemReason, system_scope, tenant_scope
from loket.db.tenancy import DEFAULT_KEY, SET_SCOPE, ScopedSession, effective_scope, scope_settings

_ROLE_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def async_url(url: str) -> str:
    """Translate the public URL form into the async driver URL SQLAlchemy needs."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgresql+asyncpg", "postgresql+psycopg"):
        return parsed.set(drivername="postgresql+asyncpg").render_as_string(hide_password=False)
    if parsed.drivername in ("sqlite", "sqlite+aiosqlite"):
        return parsed.set(drivername="sqlite+aiosqlite").render_as_string(hide_password=False)
    raise ValueError(f"unsupported database URL scheme: {parsed.drivername}")


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _set_role(role: str) -> Any:
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute(f'SET ROLE "{role}"')
        cursor.close()

    return on_connect


class Database:
    """One engine per process. SQLite gets a single connection: one writer, no SQLITE_BUSY storms."""

    def __init__(
        self,
        url: str,
        *,
        pool_size: int = 10,
        echo: bool = False,
        app_role: str | None = None,
        default_scope: Scope | None = None,
    ) -> None:
        """`app_role`: PostgreSQL role to `SET ROLE` to on every new connection, when the URL's user
        owns the tables (row-level security binds only other roles; see docs/tenant-isolation.md).
        `default_scope`: the scope of transactions begun with none set (tests and tools only)."""
        self.url = url
        self.app_role = app_role
        self.default_scope = default_scope
        driver_url = async_url(url)
        self.dialect = "sqlite" if driver_url.startswith("sqlite") else "postgresql"
        kwargs: dict[str, Any] = {"echo": echo}
        if self.dialect == "sqlite":
            database = make_url(driver_url).database
            if database and database != ":memory:":
                Path(database).parent.mkdir(parents=True, exist_ok=True)
            kwargs.update(poolclass=AsyncAdaptedQueuePool, pool_size=1, max_overflow=0, pool_timeout=60)
        else:
            kwargs.update(pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True)
        self.engine: AsyncEngine = create_async_engine(driver_url, **kwargs)
        if self.dialect == "sqlite":
            event.listen(self.engine.sync_engine, "connect", _sqlite_pragmas)
        elif app_role:
            if not _ROLE_NAME.match(app_role):
                raise ValueError(f"not a plain PostgreSQL role name: {app_role!r}")
            event.listen(self.engine.sync_engine, "connect", _set_role(app_role))
        self.sessions = async_sessionmaker(
            self.engine,
            expire_on_commit=False,
            sync_session_class=ScopedSession,
            info={DEFAULT_KEY: default_scope},
        )

    @property
    def is_postgres(self) -> bool:
        return self.dialect == "postgresql"

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """A session inside one committed-or-rolled-back transaction."""
        async with self.sessions() as session, session.begin():
            yield session

    @asynccontextmanager
    async def tenant_session(self, tenant_id: str) -> AsyncIterator[AsyncSession]:
        """A transaction that sees and writes only `tenant_id`'s rows."""
        with tenant_scope(tenant_id):
            async with self.transaction() as session:
                yield session

    @asynccontextmanager
    async def system_session(self, reason: SystemReason) -> AsyncIterator[AsyncSession]:
        """A transaction across tenants, for one of the listed reasons."""
        with system_scope(reason):
            async with self.transaction() as session:
                yield session

    @asynccontextmanager
    async def connect(self) -> AsyncIterator[AsyncConnection]:
        """A Core connection in one transaction, with the current scope set on PostgreSQL."""
        async with self.engine.begin() as conn:
            scope = effective_scope(self.default_scope)
            if self.is_postgres and scope is not None:
                await conn.execute(SET_SCOPE, scope_settings(scope))
            yield conn

    async def ping(self) -> None:
        async with self.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    async def dispose(self) -> None:
        await self.engine.dispose()
