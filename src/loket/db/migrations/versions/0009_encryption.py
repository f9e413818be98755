"""encryption at rest: tenant key-encryption keys, customer data keys, blind indexes

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from loket.db.base import BigId, UTCDateTime

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "master_keys",
        sa.Column("key_id", sa.String(length=16), nullable=False),
        sa.Column("check_value", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("retired_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("key_id", name=op.f("pk_master_keys")),
    )
    op.create_table(
        "tenant_keks",
        sa.Column("key_scope", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("master_key_id", sa.String(length=16), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("retired_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("key_scope", "version", name=op.f("pk_tenant_keks")),
    )
    op.create_table(
        "tenant_keys",
        sa.Column("key_scope", sa.String(length=64), nullable=False),
        sa.Column("index_key_wrapped", sa.LargeBinary(), nullable=False),
        sa.Column("kek_version", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("key_scope", name=op.f("pk_tenant_keys")),
    )
    op.create_table(
        "customer_keys",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("key_scope", sa.String(length=64), nullable=False),
        sa.Column("subject", sa.String(length=64), nullable=False),
        sa.Column("wrapped_dek", sa.LargeBinary(), nullable=True),
        sa.Column("kek_version", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("shredded_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customer_keys")),
        sa.UniqueConstraint("key_scope", "subject", name=op.f("uq_customer_keys_key_scope")),
    )
    with op.batch_alter_table("customer_keys", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_customer_keys_kek_version"), ["kek_version"], unique=False)
    with op.batch_alter_table("inbound_messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("sealed", sa.LargeBinary(), nullable=True))
    with op.batch_alter_table("webhook_envelopes", schema=None) as batch_op:
        batch_op.add_column(sa.Column("sealed", sa.LargeBinary(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("webhook_envelopes", schema=None) as batch_op:
        batch_op.drop_column("sealed")
    with op.batch_alter_table("inbound_messages", schema=None) as batch_op:
        batch_op.drop_column("sealed")
    with op.batch_alter_table("customer_keys", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_customer_keys_kek_version"))
    op.drop_table("customer_keys")
    op.drop_table("tenant_keys")
    op.drop_table("tenant_keks")
    op.drop_table("master_keys")
