"""Applying migrations, and refusing to run on a schema this code does not know."""

from __future__ import annotations

import logging
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import Connection

from loket.db import rls
from loket.db.engine import Database

MIGRATIONS = Path(__file__).with_name("migrations")
log = logging.getLogger(__name__)


class SchemaError(Exception):
    """The database schema does not match this version of Loket."""


def alembic_config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


def known_revisions() -> set[str]:
    return {rev.revision for rev in ScriptDirectory.from_config(alembic_config()).walk_revisions()}


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def _upgrade(conn: Connection, target: str) -> None:
    cfg = alembic_config()
    cfg.attributes["connection"] = conn
    if conn.dialect.name == "postgresql":
        # FORCE ROW LEVEL SECURITY binds the owner too: data migrations work across tenants.
        conn.execute(text("SELECT set_config('loket.scope', 'system', true)"))
    command.upgrade(cfg, target)
    if conn.dialect.name == "postgresql":
        fixed = rls.secure_stragglers(conn)
        if fixed:
            log.warning("tenant tables left without row-level security by their migration, now secured: %s", fixed)


def _current(conn: Connection) -> str | None:
    return MigrationContext.configure(conn).get_current_revision()


async def upgrade(db: Database, target: str = "head") -> None:
    async with db.connect() as conn:
        current = await conn.run_sync(_current)
        if current is not None and current not in known_revisions():
            raise SchemaError(_too_new(current))
        await conn.run_sync(_upgrade, target)


async def current_revision(db: Database) -> str | None:
    async with db.connect() as conn:
        return await conn.run_sync(_current)


async def check_schema(db: Database) -> None:
    """Refuse to start on a schema newer than this code, or one that needs `loket migrate`."""
    current = await current_revision(db)
    if current is None:
        raise SchemaError("the database has no Loket schema yet: run `loket migrate`")
    if current not in known_revisions():
        raise SchemaError(_too_new(current))
    if current != head_revision():
        raise SchemaError(
            f"the database schema is at {current}, this Loket needs {head_revision()}: run `loket migrate`"
        )


def _too_new(current: str) -> str:
    return (
        f"the database schema revision {current} is newer than this Loket knows "
        f"(latest known: {head_revision()}); upgrade Loket instead of running an older version on it"
    )
