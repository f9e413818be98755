"""Bulk INSERT ... ON CONFLICT DO NOTHING for PostgreSQL through asyncpg and unnest().

The webhook is the hottest write path: one statement per table per batch, with each column sent
as one array, costs a fraction of an executemany through the ORM layer. Column types come from
the SQLAlchemy table, so the schema stays defined in one place.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import Any, cast

import orjson
from sqlalchemy import JSON, BigInteger, Boolean, Integer, LargeBinary, SmallInteger, String, Table, Text

from loket.db.base import Base, UTCDateTime


def _pg_type(column: Any) -> str:
    kind = column.type
    if isinstance(kind, UTCDateTime):
        return "timestamptz"
    if isinstance(kind, JSON) or getattr(kind, "impl", None).__class__.__name__ == "JSON":
        return "jsonb"
    if isinstance(kind, Boolean):
        return "boolean"
    if isinstance(kind, BigInteger | Integer | SmallInteger):
        return "bigint"
    if isinstance(kind, LargeBinary):
        return "bytea"
    if isinstance(kind, String | Text):
        return "text"
    raise TypeError(f"no bulk mapping for {column.table.name}.{column.name} ({kind!r})")


@cache
def _column_type(table: Table, name: str) -> str:
    return _pg_type(table.c[name])


@cache
def _statement(table: Table, columns: tuple[str, ...], conflict: tuple[str, ...], returning: str | None) -> str:
    types = [_column_type(table, name) for name in columns]
    arrays = ", ".join(f"${i + 1}::{pg}[]" for i, pg in enumerate(types))
    names = ", ".join(columns)
    sql = (
        f"INSERT INTO {table.name} ({names}) SELECT * FROM unnest({arrays}) "  # noqa: S608 - names from the schema
        f"ON CONFLICT ({', '.join(conflict)}) DO NOTHING"
    )
    return sql + (f" RETURNING {returning}" if returning else "")


def _column_values(table: Table, name: str, rows: Sequence[dict[str, Any]]) -> list[Any]:
    values = [row[name] for row in rows]
    if _column_type(table, name) == "jsonb":
        return [None if value is None else orjson.dumps(value).decode() for value in values]
    return values


async def insert_ignore_many(
    connection: Any,
    model: type[Base],
    rows: Sequence[dict[str, Any]],
    conflict: tuple[str, ...],
    returning: str | None = None,
) -> list[Any]:
    """Insert `rows` (dicts with identical keys) on an asyncpg connection; returns `returning` values."""
    if not rows:
        return []
    table = cast(Table, model.__table__)
    columns = tuple(rows[0])
    sql = _statement(table, columns, conflict, returning)
    args = [_column_values(table, name, rows) for name in columns]
    if returning:
        return [record[0] for record in await connection.fetch(sql, *args)]
    await connection.execute(sql, *args)
    return []
