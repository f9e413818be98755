"""PostgreSQL row-level security DDL for tenant tables, used by migrations (0010 onwards).

Every table with a tenant_id column gets one policy, FORCE ROW LEVEL SECURITY (so even the
owner is bound) and the application role gets plain DML rights on it. A migration that adds a
tenant table after 0010 calls `secure_tenant_table(op.get_bind(), "<table>")`;
tests/security/test_rls.py fails for any tenant table left without it.
"""

from __future__ import annotations

import os
import re

from sqlalchemy import text
from sqlalchemy.engine import Connection

DEFAULT_APP_ROLE = "loket_app"
POLICY = "loket_tenant_isolation"
_IDENT = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")

# current_setting(..., true) is NULL when never set and '' after a SET LOCAL ended: neither matches a
# tenant id. Wrapped in (SELECT ...) so PostgreSQL evaluates it once per statement, not per row.
_CONDITION = (
    "tenant_id = (SELECT current_setting('loket.tenant_id', true)) "
    "OR (SELECT current_setting('loket.scope', true)) = 'system'"
)


def app_role() -> str:
    """The application's role: LOKET_DATABASE_APP_ROLE, else loket_app."""
    role = os.environ.get("LOKET_DATABASE_APP_ROLE") or DEFAULT_APP_ROLE
    return _ident(role)


def _ident(name: str) -> str:
    if not _IDENT.match(name):
        raise ValueError(f"not a plain PostgreSQL identifier: {name!r}")
    return name


def ensure_app_role(conn: Connection, role: str) -> None:
    """Create the (NOLOGIN, no BYPASSRLS) role if missing and grant it DML on the schema."""
    role = _ident(role)
    # Roles are cluster-wide: two databases migrating at once may race to create it.
    create = (
        "DO $$ BEGIN "  # noqa: S608 - role is a plain identifier (_ident)
        f"IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{role}') THEN "
        f"CREATE ROLE {role} NOLOGIN NOSUPERUSER NOBYPASSRLS; END IF; "
        "EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$"
    )
    conn.execute(text(create))
    conn.execute(text(f"GRANT USAGE ON SCHEMA public TO {role}"))
    conn.execute(text(f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role}"))
    conn.execute(text(f"GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO {role}"))
    conn.execute(text(f"REVOKE INSERT, UPDATE, DELETE ON alembic_version FROM {role}"))
    conn.execute(
        text(f"ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {role}")
    )
    conn.execute(text(f"ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT, UPDATE ON SEQUENCES TO {role}"))


def revoke_app_role(conn: Connection, role: str) -> None:
    """Undo the grants (the role itself stays: it is shared by every database of the cluster)."""
    role = _ident(role)
    conn.execute(text(f"ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE ALL ON TABLES FROM {role}"))
    conn.execute(text(f"ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE ALL ON SEQUENCES FROM {role}"))
    conn.execute(text(f"REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {role}"))
    conn.execute(text(f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM {role}"))
    conn.execute(text(f"REVOKE USAGE ON SCHEMA public FROM {role}"))


def tenant_tables(conn: Connection) -> list[str]:
    """Tables of the public schema with a tenant_id column."""
    rows = conn.execute(
        text(
            "SELECT c.table_name FROM information_schema.columns c "
            "JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name "
            "WHERE c.table_schema = 'public' AND c.column_name = 'tenant_id' AND t.table_type = 'BASE TABLE' "
            "ORDER BY c.table_name"
        )
    )
    return [str(name) for (name,) in rows]


def secure_tenant_table(conn: Connection, table: str) -> None:
    table = _ident(table)
    conn.execute(text(f"DROP POLICY IF EXISTS {POLICY} ON {table}"))
    conn.execute(text(f"CREATE POLICY {POLICY} ON {table} USING ({_CONDITION}) WITH CHECK ({_CONDITION})"))
    conn.execute(text(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY"))
    conn.execute(text(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY"))


def unsecure_tenant_table(conn: Connection, table: str) -> None:
    table = _ident(table)
    conn.execute(text(f"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY"))
    conn.execute(text(f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY"))
    conn.execute(text(f"DROP POLICY IF EXISTS {POLICY} ON {table}"))


def secure_all(conn: Connection, role: str) -> list[str]:
    """Grant the app role and put every tenant table behind its policy; returns the tables."""
    ensure_app_role(conn, role)
    tables = tenant_tables(conn)
    for table in tables:
        secure_tenant_table(conn, table)
    return tables


def secured_tables(conn: Connection) -> set[str]:
    rows = conn.execute(
        text(
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "JOIN pg_policy p ON p.polrelid = c.oid "
            "WHERE n.nspname = 'public' AND p.polname = :policy AND c.relrowsecurity AND c.relforcerowsecurity"
        ),
        {"policy": POLICY},
    )
    return {str(name) for (name,) in rows}


def secure_stragglers(conn: Connection) -> list[str]:
    """Once 0010 has run: put any tenant table a later migration left open behind the policy.

    `loket migrate` calls this after the migrations, so a forgotten `secure_tenant_table` cannot
    leave a table readable across tenants; it returns the tables it had to fix (logged as a warning).
    """
    secured = secured_tables(conn)
    if not secured:
        return []  # before 0010 (or after its downgrade): nothing is row-secured yet
    missing = [table for table in tenant_tables(conn) if table not in secured]
    for table in missing:
        secure_tenant_table(conn, table)
    return missing


def unsecure_all(conn: Connection, role: str) -> None:
    for table in tenant_tables(conn):
        unsecure_tenant_table(conn, table)
    revoke_app_role(conn, role)
