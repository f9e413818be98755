"""Tables of the console's inbox: agents' presence and limits, teams, and how a handoff is routed.

- `console_agents`: per tenant and staff member: available or away, how many open conversations
  they take at most, and when they were last given one (the round-robin order).
- `console_teams` / `console_team_members`: queues inside a tenant; a team takes the handoff
  reasons it lists (none listed: it takes the rest).
- `console_handoff_routes`: the team a handoff was routed or transferred to, when and by whom it was
  last assigned (`handoffs.assigned_to` stays the one answer to "whose is it").
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, SmallInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from loket.db.base import Base, BigId, Json, UTCDateTime

AVAILABLE = "available"
AWAY = "away"
AGENT_STATUSES = (AVAILABLE, AWAY)
DEFAULT_MAX_CONCURRENT = 5


class ConsoleAgent(Base):
    __tablename__ = "console_agents"

    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("staff_users.id"), primary_key=True)
    status: Mapped[str] = mapped_column(String(16), default=AWAY)
    max_concurrent: Mapped[int] = mapped_column(SmallInteger, default=DEFAULT_MAX_CONCURRENT)
    last_assigned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ConsoleTeam(Base):
    __tablename__ = "console_teams"
    __table_args__ = (Index("uq_console_teams_name", "tenant_id", "name", unique=True),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"))
    name: Mapped[str] = mapped_column(String(100))
    reasons: Mapped[list[Any]] = mapped_column(Json, default=list)  # handoff reasons it takes; [] = the rest
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ConsoleTeamMember(Base):
    __tablename__ = "console_team_members"

    team_id: Mapped[int] = mapped_column(ForeignKey("console_teams.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("staff_users.id"), primary_key=True)


class HandoffRoute(Base):
    __tablename__ = "console_handoff_routes"
    __table_args__ = (Index("ix_console_handoff_routes_team", "tenant_id", "team_id"),)

    handoff_id: Mapped[int] = mapped_column(ForeignKey("handoffs.id"), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"))
    team_id: Mapped[int | None] = mapped_column(ForeignKey("console_teams.id", ondelete="SET NULL"))
    assigned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    assigned_by: Mapped[str | None] = mapped_column(String(64))  # a staff id, or "auto"
    transfers: Mapped[int] = mapped_column(Integer, default=0)
