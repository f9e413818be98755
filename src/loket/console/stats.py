"""The supervisor dashboard's figures for one tenant and period: queue now, waiting, first-response
and resolution times, CSAT, bot containment, per agent and per team.

Medians rather than means for times (one forgotten chat must not hide a good day). Everything is
computed from the handoffs created in the period (bounded by the period, not by the table's size),
the conversations active in the period, and the CSAT answers of H1b's `console_csat`.
"""

from __future__ import annotations

import statistics
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from loket.console.assignment import agent_loads, teams_by_handoff
from loket.console.conversation_tables import CsatAnswer
from loket.console.queue import teams_of
from loket.db.models import Conversation
from loket.dialogue.tables import Handoff
from loket.staff.tables import StaffUser


@dataclass
class Group:
    key: str
    name: str
    status: str = ""
    open: int = 0
    waiting: int = 0
    handled: int = 0
    first_response: list[float] = field(default_factory=list)
    resolution: list[float] = field(default_factory=list)
    csat: list[int] = field(default_factory=list)

    @property
    def first_response_median(self) -> float | None:
        return statistics.median(self.first_response) if self.first_response else None

    @property
    def resolution_median(self) -> float | None:
        return statistics.median(self.resolution) if self.resolution else None

    @property
    def csat_average(self) -> float | None:
        return round(sum(self.csat) / len(self.csat), 2) if self.csat else None


@dataclass
class Dashboard:
    since: datetime
    until: datetime
    waiting_now: int
    open_now: int
    oldest_wait_seconds: int | None
    average_wait_seconds: int | None
    conversations: int
    handoffs: int
    overall: Group
    agents: list[Group]
    teams: list[Group]
    per_day: list[tuple[str, int]]

    @property
    def containment(self) -> float | None:
        if self.conversations == 0:
            return None
        handed = min(self.handoffs, self.conversations)
        return round(1 - handed / self.conversations, 4)


def _seconds(start: datetime, end: datetime | None) -> float | None:
    return (end - start).total_seconds() if end is not None else None


async def build_dashboard(session: AsyncSession, tenant_id: str, *, now: datetime, days: int) -> Dashboard:
    since = now - timedelta(days=days)
    handoffs = list(
        (
            await session.execute(
                select(Handoff).where(Handoff.tenant_id == tenant_id, Handoff.created_at >= since).order_by(Handoff.id)
            )
        ).scalars()
    )
    open_rows = list(
        (
            await session.execute(
                select(Handoff).where(Handoff.tenant_id == tenant_id, Handoff.status.in_(("waiting", "active")))
            )
        ).scalars()
    )
    waits = [(now - h.created_at).total_seconds() for h in open_rows if h.status == "waiting"]
    conversations = int(
        (
            await session.execute(
                select(func.count())
                .select_from(Conversation)
                .where(Conversation.tenant_id == tenant_id, Conversation.last_inbound_at >= since)
            )
        ).scalar_one()
    )
    handed_customers = len({h.wa_id for h in handoffs})
    csat_rows = (
        await session.execute(
            select(CsatAnswer.handoff_id, CsatAnswer.agent_id, CsatAnswer.score).where(
                CsatAnswer.tenant_id == tenant_id, CsatAnswer.asked_at >= since, CsatAnswer.score.is_not(None)
            )
        )
    ).all()
    loads = {load.user_id: load for load in await agent_loads(session, tenant_id)}
    people = {h.assigned_to for h in [*handoffs, *open_rows] if h.assigned_to} | set(loads)
    names = dict(await _names(session, people))
    team_names = {str(t.id): t.name for t in await teams_of(session, tenant_id)}

    overall = Group("all", "all")
    agents: dict[str, Group] = {}
    teams: dict[str, Group] = {}

    def agent(user_id: str) -> Group:
        if user_id not in agents:
            load = loads.get(user_id)
            agents[user_id] = Group(user_id, names.get(user_id, user_id), status=load.status if load else "")
        return agents[user_id]

    def team(team_id: int | None) -> Group:
        key = str(team_id) if team_id is not None else ""
        if key not in teams:
            teams[key] = Group(key, team_names.get(key, ""))
        return teams[key]

    team_by_handoff = await teams_by_handoff(
        session, tenant_id, list({h.id: h for h in [*handoffs, *open_rows]}.values())
    )
    for user_id, load in loads.items():
        agent(user_id).open = load.open_count
    for h in open_rows:
        group = team(team_by_handoff[h.id])
        group.open += 1
        if h.status == "waiting":
            group.waiting += 1
    for h in handoffs:
        groups = [overall, team(team_by_handoff[h.id])]
        if h.assigned_to:
            groups.append(agent(h.assigned_to))
        first = _seconds(h.created_at, h.first_reply_at)
        done = _seconds(h.created_at, h.closed_at) if h.status == "closed" else None
        for group in groups:
            if h.assigned_to or h.first_reply_at:
                group.handled += 1
            if first is not None:
                group.first_response.append(first)
            if done is not None:
                group.resolution.append(done)
    handoff_team = team_by_handoff
    for handoff_id, agent_id, score in csat_rows:
        if score is None:
            continue
        overall.csat.append(int(score))
        if agent_id:
            agent(str(agent_id)).csat.append(int(score))
        if handoff_id in handoff_team:
            team(handoff_team[handoff_id]).csat.append(int(score))
    per_day = Counter(h.created_at.date().isoformat() for h in handoffs)
    day_list = [(since + timedelta(days=i + 1)).date().isoformat() for i in range(days)]
    return Dashboard(
        since=since,
        until=now,
        waiting_now=len(waits),
        open_now=len(open_rows) - len(waits),
        oldest_wait_seconds=int(max(waits)) if waits else None,
        average_wait_seconds=int(sum(waits) / len(waits)) if waits else None,
        conversations=max(conversations, handed_customers),
        handoffs=handed_customers,
        overall=overall,
        agents=sorted(agents.values(), key=lambda g: g.name),
        teams=sorted(teams.values(), key=lambda g: g.name),
        per_day=[(day, per_day.get(day, 0)) for day in day_list],
    )


async def _names(session: AsyncSession, ids: set[str]) -> list[tuple[str, str]]:
    if not ids:
        return []
    rows = await session.execute(select(StaffUser.id, StaffUser.display_name).where(StaffUser.id.in_(ids)))
    return [(str(a), str(b)) for a, b in rows.all()]
