"""account notices to all or a segment of a tenant's customers

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from loket.db import rls
from loket.db.base import Json, UTCDateTime

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "notice_campaigns",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("request_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("content", Json, nullable=False),
        sa.Column("content_sha256", sa.String(length=64), nullable=False),
        sa.Column("effective_at", UTCDateTime(), nullable=True),
        sa.Column("segment", Json, nullable=False),
        sa.Column("phone_number_id", sa.String(length=32), nullable=False),
        sa.Column("institution", sa.String(length=200), nullable=False),
        sa.Column("call_centre", sa.String(length=40), nullable=False),
        sa.Column("default_language", sa.String(length=8), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("cursor", sa.String(length=32), nullable=True),
        sa.Column("scanned", sa.Integer(), nullable=False),
        sa.Column("matched", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("fanned_out_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_notice_campaigns_tenant_id_tenants")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notice_campaigns")),
        sa.UniqueConstraint("tenant_id", "request_id", name=op.f("uq_notice_campaigns_tenant_id_request_id")),
    )
    with op.batch_alter_table("notice_campaigns", schema=None) as batch_op:
        batch_op.create_index("ix_notice_campaigns_state", ["state", "created_at"], unique=False)
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":  # behind the tenant policy, like every tenant table (0010)
        rls.secure_tenant_table(bind, "notice_campaigns")


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        rls.unsecure_tenant_table(bind, "notice_campaigns")
    with op.batch_alter_table("notice_campaigns", schema=None) as batch_op:
        batch_op.drop_index("ix_notice_campaigns_state")
    op.drop_table("notice_campaigns")
