"""INSERT ... ON CONFLICT DO NOTHING on both engines: the database, not a cache, deduplicates."""

from __future__ import annotations

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql.dml import Insert

from loket.db.base import Base


def insert_ignore(dialect: str, model: type[Base], *conflict_columns: str) -> Insert:
    index = list(conflict_columns) or None
    if dialect == "postgresql":
        return postgresql.insert(model).on_conflict_do_nothing(index_elements=index)
    return sqlite.insert(model).on_conflict_do_nothing(index_elements=index)
