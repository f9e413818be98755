"""staff console: agent presence, assignment, notes, canned responses, CSAT

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from loket.db.base import BigId, Json, UTCDateTime

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # H1a: the inbox (loket.console.tables)
    op.create_table(
        "console_agents",
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("max_concurrent", sa.SmallInteger(), nullable=False),
        sa.Column("last_assigned_at", UTCDateTime(), nullable=True),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_console_agents_tenant_id_tenants")),
        sa.ForeignKeyConstraint(["user_id"], ["staff_users.id"], name=op.f("fk_console_agents_user_id_staff_users")),
        sa.PrimaryKeyConstraint("tenant_id", "user_id", name=op.f("pk_console_agents")),
    )
    op.create_table(
        "console_teams",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("reasons", Json, nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_console_teams_tenant_id_tenants")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_console_teams")),
    )
    with op.batch_alter_table("console_teams", schema=None) as batch_op:
        batch_op.create_index("uq_console_teams_name", ["tenant_id", "name"], unique=True)
    op.create_table(
        "console_team_members",
        sa.Column("team_id", BigId, nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["team_id"],
            ["console_teams.id"],
            name=op.f("fk_console_team_members_team_id_console_teams"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["staff_users.id"], name=op.f("fk_console_team_members_user_id_staff_users")
        ),
        sa.PrimaryKeyConstraint("team_id", "user_id", name=op.f("pk_console_team_members")),
    )
    op.create_table(
        "console_handoff_routes",
        sa.Column("handoff_id", BigId, nullable=False),
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("team_id", BigId, nullable=True),
        sa.Column("assigned_at", UTCDateTime(), nullable=True),
        sa.Column("assigned_by", sa.String(length=64), nullable=True),
        sa.Column("transfers", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["handoff_id"], ["handoffs.id"], name=op.f("fk_console_handoff_routes_handoff_id_handoffs")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_console_handoff_routes_tenant_id_tenants")
        ),
        sa.ForeignKeyConstraint(
            ["team_id"],
            ["console_teams.id"],
            name=op.f("fk_console_handoff_routes_team_id_console_teams"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("handoff_id", name=op.f("pk_console_handoff_routes")),
    )
    with op.batch_alter_table("console_handoff_routes", schema=None) as batch_op:
        batch_op.create_index("ix_console_handoff_routes_team", ["tenant_id", "team_id"], unique=False)
    with op.batch_alter_table("handoffs", schema=None) as batch_op:
        # the inbox counts, the "mine" tab and the per-agent load, from the index alone
        batch_op.create_index("ix_handoffs_assignee", ["tenant_id", "status", "assigned_to"], unique=False)

    # H1b: the conversation view (loket.console.conversation_tables)
    op.create_table(
        "console_notes",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("conversation_id", BigId, nullable=False),
        sa.Column("handoff_id", BigId, nullable=True),
        sa.Column("author_id", sa.String(length=64), nullable=False),
        sa.Column("body_enc", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_console_notes_tenant_id_tenants")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_console_notes")),
    )
    with op.batch_alter_table("console_notes", schema=None) as batch_op:
        batch_op.create_index("ix_console_notes_conversation", ["tenant_id", "conversation_id", "id"], unique=False)

    op.create_table(
        "console_canned_responses",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("shortcut", sa.String(length=32), nullable=False),
        sa.Column("title", sa.String(length=100), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("updated_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_console_canned_responses_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_console_canned_responses")),
        sa.UniqueConstraint(
            "tenant_id", "shortcut", "language", name=op.f("uq_console_canned_responses_tenant_id_shortcut_language")
        ),
    )

    op.create_table(
        "console_csat",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("handoff_id", BigId, nullable=False),
        sa.Column("conversation_id", BigId, nullable=False),
        sa.Column("wa_id", sa.String(length=32), nullable=False),
        sa.Column("agent_id", sa.String(length=64), nullable=True),
        sa.Column("asked_by", sa.String(length=64), nullable=False),
        sa.Column("asked_at", UTCDateTime(), nullable=False),
        sa.Column("score", sa.SmallInteger(), nullable=True),
        sa.Column("answered_at", UTCDateTime(), nullable=True),
        sa.Column("answer_wamid", sa.String(length=128), nullable=True),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_console_csat_tenant_id_tenants")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_console_csat")),
        sa.UniqueConstraint("handoff_id", name=op.f("uq_console_csat_handoff_id")),
    )
    with op.batch_alter_table("console_csat", schema=None) as batch_op:
        batch_op.create_index("ix_console_csat_tenant_asked", ["tenant_id", "asked_at"], unique=False)

    op.create_table(
        "console_media_checks",
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("media_id", sa.String(length=128), nullable=False),
        sa.Column("detected", sa.String(length=32), nullable=False),
        sa.Column("mime_type", sa.String(length=100), nullable=False),
        sa.Column("dangerous", sa.Boolean(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("checked_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_console_media_checks_tenant_id_tenants")),
        sa.PrimaryKeyConstraint("tenant_id", "media_id", name=op.f("pk_console_media_checks")),
    )


def downgrade() -> None:
    op.drop_table("console_media_checks")
    with op.batch_alter_table("console_csat", schema=None) as batch_op:
        batch_op.drop_index("ix_console_csat_tenant_asked")
    op.drop_table("console_csat")
    op.drop_table("console_canned_responses")
    with op.batch_alter_table("console_notes", schema=None) as batch_op:
        batch_op.drop_index("ix_console_notes_conversation")
    op.drop_table("console_notes")
    with op.batch_alter_table("handoffs", schema=None) as batch_op:
        batch_op.drop_index("ix_handoffs_assignee")
    with op.batch_alter_table("console_handoff_routes", schema=None) as batch_op:
        batch_op.drop_index("ix_console_handoff_routes_team")
    op.drop_table("console_handoff_routes")
    op.drop_table("console_team_members")
    with op.batch_alter_table("console_teams", schema=None) as batch_op:
        batch_op.drop_index("uq_console_teams_name")
    op.drop_table("console_teams")
    op.drop_table("console_agents")
