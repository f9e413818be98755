"""Tenant isolation in the data layer: every transaction carries its scope (loket.db.scope).

Two walls, both installed on every `Database`:

- **PostgreSQL row-level security.** At the start of each transaction the scope becomes
  `set_config('loket.tenant_id', ..., true)` or `set_config('loket.scope', 'system', true)`, i.e.
  `SET LOCAL`: it ends with the transaction, so a pooled connection never carries a tenant into the
  next one. The policies (migration 0010) compare each row's tenant_id with it. A transaction
  without a scope sees no tenant row and can write none.
- **The ORM filter, on both engines.** Every ORM SELECT, UPDATE and DELETE gets
  `tenant_id = <scope>` on each tenant table it touches (no scope: nothing matches), and every
  insert or flush of a tenant row outside the scope raises `ScopeError`. SQLite has no row-level
  security, so this is the wall there; on PostgreSQL it is the first of two.

The scope is read once, when the transaction begins, and kept in `session.info`, so both walls
agree for the whole transaction even if the task's scope changes half-way.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from sqlalchemy import Table, event, false, text
from sqlalchemy.engine import Connection
from sqlalchemy.orm import ORMExecuteState, Session, SessionTransaction, with_loader_criteria
from sqlalchemy.sql.util import find_tables

from loket.db.base import Base
from loket.db.scope import Scope, ScopeError, current_scope

TENANT_COLUMN = "tenant_id"
SCOPE_KEY = "loket_scope"
DEFAULT_KEY = "loket_default_scope"
SET_SCOPE = text("SELECT set_config('loket.tenant_id', :tenant, true), set_config('loket.scope', :scope, true)")


def scope_settings(scope: Scope | None) -> dict[str, str]:
    """The values of the two PostgreSQL settings the policies read ('' is unset)."""
    if scope is None:
        return {"tenant": "", "scope": ""}
    if scope.is_system:
        return {"tenant": "", "scope": "system"}
    assert scope.tenant_id is not None
    return {"tenant": scope.tenant_id, "scope": ""}


def effective_scope(default: Scope | None) -> Scope | None:
    return current_scope() or default


def tenant_classes() -> tuple[type[Any], ...]:
    """Mapped classes whose table has a tenant_id column (recomputed when a table module is imported)."""
    return _tenant_classes(len(Base.registry.mappers))


@cache
def _tenant_classes(_mapper_count: int) -> tuple[type[Any], ...]:
    found = []
    for mapper in Base.registry.mappers:
        table = mapper.local_table
        if isinstance(table, Table) and TENANT_COLUMN in table.c:
            found.append(mapper.class_)
    return tuple(sorted(found, key=lambda cls: cls.__name__))


def is_tenant_table(table: Any) -> bool:
    return isinstance(table, Table) and TENANT_COLUMN in table.c


class ScopedSession(Session):
    """The sync side of Loket's sessions: carries the scope and applies it (see the module doc)."""


@event.listens_for(ScopedSession, "after_begin")
def _after_begin(session: Session, _transaction: SessionTransaction, connection: Connection) -> None:
    scope = effective_scope(session.info.get(DEFAULT_KEY))
    session.info[SCOPE_KEY] = scope
    if connection.dialect.name == "postgresql" and scope is not None:
        connection.execute(SET_SCOPE, scope_settings(scope))


@event.listens_for(ScopedSession, "after_transaction_end")
def _after_end(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:
        session.info.pop(SCOPE_KEY, None)


def _session_scope(session: Session) -> Scope | None:
    if SCOPE_KEY in session.info:
        scope: Scope | None = session.info[SCOPE_KEY]
        return scope
    return effective_scope(session.info.get(DEFAULT_KEY))


@event.listens_for(ScopedSession, "do_orm_execute")
def _filter(state: ORMExecuteState) -> None:
    if state.is_column_load or state.is_relationship_load:
        return  # the criteria of the statement that loads them already apply
    scope = _session_scope(state.session)
    if scope is not None and scope.is_system:
        return
    statement = state.statement
    if state.is_insert:
        table = getattr(statement, "table", None)
        if isinstance(table, Table) and is_tenant_table(table):
            _check_insert(scope, state, table)
        return
    if not (state.is_select or state.is_update or state.is_delete):
        return
    tenant = scope.tenant_id if scope is not None else None
    options = [_criterion(cls, tenant) for cls in _classes_in(statement)]
    if options:
        state.statement = statement.options(*options)


# Statement shape (SQLAlchemy's cache key, bound values left out) -> the tenant classes it touches.
# Adding a criterion for every tenant table to every statement would cost more than the query.
_SHAPES: dict[Any, tuple[type[Any], ...]] = {}
_MAX_SHAPES = 20_000


def _classes_in(statement: Any) -> tuple[type[Any], ...]:
    cache_key = statement._generate_cache_key()
    if cache_key is not None and (known := _SHAPES.get(cache_key.key)) is not None:
        return known
    by_table = _by_table(len(Base.registry.mappers))
    found: dict[type[Any], None] = {}
    for table in find_tables(statement, include_aliases=True, include_joins=True):
        cls = by_table.get(getattr(table, "element", table))
        if cls is not None:
            found[cls] = None
    classes = tuple(found)
    if cache_key is not None:
        if len(_SHAPES) >= _MAX_SHAPES:
            _SHAPES.clear()
        _SHAPES[cache_key.key] = classes
    return classes


@cache
def _by_table(_mapper_count: int) -> dict[Any, type[Any]]:
    return {cls.__table__: cls for cls in tenant_classes()}


_CRITERIA: dict[tuple[type[Any], str | None], Any] = {}


def _criterion(cls: type[Any], tenant: str | None) -> Any:
    """Built once per (table, tenant): building one costs about as much as a simple query."""
    key = (cls, tenant)
    found = _CRITERIA.get(key)
    if found is None:
        if len(_CRITERIA) >= _MAX_SHAPES:
            _CRITERIA.clear()
        criterion = false() if tenant is None else cls.tenant_id == tenant
        found = _CRITERIA[key] = with_loader_criteria(cls, criterion, include_aliases=True)
    return found


def _check_insert(scope: Scope | None, state: ORMExecuteState, table: Table) -> None:
    if scope is None:
        raise ScopeError(f"insert into {table.name} without a tenant scope")
    tenants: set[object] = set()
    params: Any = state.parameters
    rows: list[Any] = params if isinstance(params, list) else [params] if params else []
    for row in rows:
        if TENANT_COLUMN in row:
            tenants.add(row[TENANT_COLUMN])
    statement: Any = state.statement
    tenants.update(_tenant_values(getattr(statement, "_values", None) or {}))
    for batch in getattr(statement, "_multi_values", ()) or ():
        for row in batch:
            if isinstance(row, dict):
                tenants.update(_tenant_values(row))
    for tenant in tenants:
        if not scope.allows(tenant if isinstance(tenant, str) else None):
            raise ScopeError(f"insert into {table.name} for another tenant than the scope's")


def _tenant_values(values: Any) -> list[object]:
    """The literal tenant ids an INSERT's .values(...) names (SQL expressions are left to RLS)."""
    found: list[object] = []
    for key, value in values.items():
        if getattr(key, "key", key) == TENANT_COLUMN:
            literal = getattr(value, "value", value)
            if isinstance(literal, str) or literal is None:
                found.append(literal)
    return found


@event.listens_for(ScopedSession, "before_flush")
def _check_flush(session: Session, _context: Any, _instances: Any) -> None:
    scope = _session_scope(session)
    if scope is not None and scope.is_system:
        return
    for obj in (*session.new, *session.dirty, *session.deleted):
        table = getattr(type(obj), "__table__", None)
        if not is_tenant_table(table):
            continue
        tenant = getattr(obj, TENANT_COLUMN, None)
        if scope is None or not scope.allows(tenant):
            name = table.name if isinstance(table, Table) else type(obj).__name__
            raise ScopeError(f"write to {name} outside the tenant scope")
