"""tenant isolation (PostgreSQL RLS), data-subject requests, retention

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-29

The privacy tables (data-subject requests, legal holds, purge runs) come from
loket.privacy.migration_0010. Then, on PostgreSQL only, every table with a tenant_id column,
those included, goes behind the tenant policy of loket.db.rls, and the application role
(LOKET_DATABASE_APP_ROLE, default loket_app) is created if missing and granted DML.
SQLite has no row-level security: the data-layer scope (loket.db.tenancy) is the wall there.
"""

from __future__ import annotations

from alembic import op

from loket.db import rls
from loket.privacy.migration_0010 import create_privacy_tables, drop_privacy_tables

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_privacy_tables()
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        rls.secure_all(bind, rls.app_role())


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        rls.unsecure_all(bind, rls.app_role())
    drop_privacy_tables()
