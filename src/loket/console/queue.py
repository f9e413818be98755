"""What the inbox shows: the tenant's open handoffs by tab (waiting, mine, all) and team, with counts.

Reads only; each query is bounded (a page of rows, counts over the open handoffs via their index).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, and_, func, not_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from loket.console.tables import ConsoleTeam, HandoffRoute
from loket.dialogue.agent_api import mask_wa_id
from loket.dialogue.persist import OPEN_HANDOFF
from loket.dialogue.tables import Handoff
from loket.staff.tables import StaffUser

TABS = ("waiting", "mine", "all")
PAGE_SIZE = 50


@dataclass(frozen=True)
class QueueRow:
    id: int
    status: str
    reason: str
    summary: str
    language: str
    customer: str  # masked
    assigned_to: str | None
    assignee_name: str | None
    team_id: int | None
    created_at: datetime
    waiting_seconds: int


@dataclass(frozen=True)
class Team:
    id: int
    name: str
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class QueueView:
    tab: str
    team_id: int | None
    rows: list[QueueRow]
    counts: dict[str, int]
    teams: list[Team]


async def teams_of(session: AsyncSession, tenant_id: str) -> list[Team]:
    rows = await session.execute(
        select(ConsoleTeam).where(ConsoleTeam.tenant_id == tenant_id).order_by(ConsoleTeam.name)
    )
    return [Team(t.id, t.name, tuple(str(r) for r in t.reasons or ())) for t in rows.scalars()]


def _team_filter(team: Team, teams: list[Team]) -> ColumnElement[bool]:
    """Routed to the team, or not routed anywhere and matching its reasons (or none listed: the rest)."""
    if team.reasons:
        by_reason = Handoff.reason.in_(team.reasons)
    else:
        taken = [reason for other in teams for reason in other.reasons]
        by_reason = not_(Handoff.reason.in_(taken)) if taken else Handoff.id.is_not(None)
    return or_(HandoffRoute.team_id == team.id, and_(HandoffRoute.team_id.is_(None), by_reason))


def _tab_filter(tab: str, user_id: str) -> ColumnElement[bool]:
    if tab == "waiting":
        return and_(Handoff.status == "waiting", Handoff.assigned_to.is_(None))
    if tab == "mine":
        return and_(Handoff.status.in_(OPEN_HANDOFF), Handoff.assigned_to == user_id)
    return Handoff.status.in_(OPEN_HANDOFF)


async def load_queue(
    session: AsyncSession,
    tenant_id: str,
    *,
    tab: str,
    user_id: str,
    now: datetime,
    team_id: int | None = None,
    limit: int = PAGE_SIZE,
) -> QueueView:
    tab = tab if tab in TABS else "waiting"
    teams = await teams_of(session, tenant_id)
    team = next((t for t in teams if t.id == team_id), None)
    base = [Handoff.tenant_id == tenant_id]
    if team is not None:
        base.append(_team_filter(team, teams))
    # the three tab counts in one pass over the open handoffs (COUNT ... FILTER: PostgreSQL and SQLite)
    counted = select(*(func.count().filter(_tab_filter(name, user_id)) for name in TABS)).select_from(Handoff)
    if team is not None:  # the routes matter only to a team's view; without one the index answers alone
        counted = counted.outerjoin(HandoffRoute, HandoffRoute.handoff_id == Handoff.id)
    counted = counted.where(*base, _tab_filter("all", user_id))
    totals = (await session.execute(counted)).one()
    counts = {name: int(total or 0) for name, total in zip(TABS, totals, strict=True)}
    query = (
        select(Handoff, HandoffRoute.team_id, StaffUser.display_name)
        .outerjoin(HandoffRoute, HandoffRoute.handoff_id == Handoff.id)
        .outerjoin(StaffUser, StaffUser.id == Handoff.assigned_to)
        .where(*base, _tab_filter(tab, user_id))
        .order_by(Handoff.created_at, Handoff.id)
        .limit(limit)
    )
    rows = [
        QueueRow(
            id=h.id,
            status=h.status,
            reason=h.reason,
            summary=h.summary,
            language=h.language,
            customer=mask_wa_id(h.wa_id),
            assigned_to=h.assigned_to,
            assignee_name=name,
            team_id=routed,
            created_at=h.created_at,
            waiting_seconds=max(0, int((now - h.created_at).total_seconds())),
        )
        for h, routed, name in (await session.execute(query)).all()
    ]
    return QueueView(tab=tab, team_id=team.id if team else None, rows=rows, counts=counts, teams=teams)
