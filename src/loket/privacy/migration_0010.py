"""DDL of the privacy tables, called from migration 0010 (which also carries the tenant isolation work).

Kept here so the privacy package owns its schema; `loket.privacy.tables` mirrors it.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from loket.db.base import BigId, Json, UTCDateTime

TABLES = ("privacy_purge_runs", "privacy_legal_holds", "privacy_requests")


def create_privacy_tables() -> None:
    op.create_table(
        "privacy_requests",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("reference", sa.String(length=24), nullable=False),
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("wa_id", sa.String(length=32), nullable=True),
        sa.Column("subject_hash", sa.String(length=80), nullable=False),
        sa.Column("customer_id", sa.String(length=64), nullable=True),
        sa.Column("right", sa.String(length=24), nullable=False),
        sa.Column("purpose", sa.String(length=32), nullable=True),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("received_at", UTCDateTime(), nullable=False),
        sa.Column("due_at", UTCDateTime(), nullable=False),
        sa.Column("verified_at", UTCDateTime(), nullable=True),
        sa.Column("verification", sa.String(length=32), nullable=True),
        sa.Column("completed_at", UTCDateTime(), nullable=True),
        sa.Column("rejection_reason", sa.String(length=48), nullable=True),
        sa.Column("overdue_at", UTCDateTime(), nullable=True),
        sa.Column("created_by", sa.String(length=80), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("evidence", Json, nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_privacy_requests_tenant_id_tenants")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_privacy_requests")),
        sa.UniqueConstraint("reference", name=op.f("uq_privacy_requests_reference")),
    )
    with op.batch_alter_table("privacy_requests", schema=None) as batch_op:
        batch_op.create_index("ix_privacy_requests_tenant_status", ["tenant_id", "status", "due_at"], unique=False)
        batch_op.create_index("ix_privacy_requests_subject", ["tenant_id", "subject_hash"], unique=False)

    op.create_table(
        "privacy_legal_holds",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("wa_id", sa.String(length=32), nullable=True),
        sa.Column("subject_hash", sa.String(length=80), nullable=True),
        sa.Column("reason", sa.String(length=48), nullable=False),
        sa.Column("case_ref", sa.String(length=100), nullable=True),
        sa.Column("set_by", sa.String(length=80), nullable=False),
        sa.Column("set_at", UTCDateTime(), nullable=False),
        sa.Column("lifted_by", sa.String(length=80), nullable=True),
        sa.Column("lifted_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_privacy_legal_holds_tenant_id_tenants")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_privacy_legal_holds")),
    )
    with op.batch_alter_table("privacy_legal_holds", schema=None) as batch_op:
        batch_op.create_index("ix_privacy_legal_holds_tenant", ["tenant_id", "lifted_at"], unique=False)

    op.create_table(
        "privacy_purge_runs",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("run_id", sa.String(length=32), nullable=False),
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("dry_run", sa.Boolean(), nullable=False),
        sa.Column("started_at", UTCDateTime(), nullable=False),
        sa.Column("finished_at", UTCDateTime(), nullable=False),
        sa.Column("counts", Json, nullable=False),
        sa.Column("held", Json, nullable=False),
        sa.Column("actor", sa.String(length=80), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_privacy_purge_runs")),
    )
    with op.batch_alter_table("privacy_purge_runs", schema=None) as batch_op:
        batch_op.create_index("ix_privacy_purge_runs_tenant", ["tenant_id", "started_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_privacy_purge_runs_run_id"), ["run_id"], unique=False)


def drop_privacy_tables() -> None:
    for name in TABLES:
        op.drop_table(name)
