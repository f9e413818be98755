"""Who answers which conversation: automatic round-robin, taking, manual assignment and transfer.

Round-robin: a waiting, unassigned handoff goes to the *available* agent who was given one longest ago
(never given one: first), among those under their concurrent limit (open conversations assigned to
them) and, when the handoff's team has members, among that team's members. Every change is one
conditional UPDATE (`assigned_to` as it was read), so two processes assigning at once never give one
conversation to two people; every change is audited and announced on the inbox bus after commit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from loket import audit
from loket.audit import EventType
from loket.console.bus import publish_after_commit
from loket.console.tables import (
    AGENT_STATUSES,
    AVAILABLE,
    DEFAULT_MAX_CONCURRENT,
    ConsoleAgent,
    ConsoleTeam,
    ConsoleTeamMember,
    HandoffRoute,
)
from loket.db.engine import Database
from loket.dialogue.persist import OPEN_HANDOFF
from loket.dialogue.tables import Handoff
from loket.staff.access import effective_role, memberships_of
from loket.staff.errors import Conflict, InvalidRequest, NotFound
from loket.staff.permissions import allows
from loket.staff.tables import StaffMembership

AUTO = "auto"


def staff_ref(user_id: str) -> str:
    return f"staff:{user_id}"


@dataclass(frozen=True)
class AgentLoad:
    user_id: str
    status: str
    max_concurrent: int
    open_count: int
    last_assigned_at: datetime | None

    @property
    def has_room(self) -> bool:
        return self.status == AVAILABLE and self.open_count < self.max_concurrent


async def open_counts(session: AsyncSession, tenant_id: str) -> dict[str, int]:
    rows = await session.execute(
        select(Handoff.assigned_to, func.count())
        .where(Handoff.tenant_id == tenant_id, Handoff.status.in_(OPEN_HANDOFF), Handoff.assigned_to.is_not(None))
        .group_by(Handoff.assigned_to)
    )
    return {str(user): int(count) for user, count in rows.all()}


async def agent_loads(session: AsyncSession, tenant_id: str) -> list[AgentLoad]:
    """Presence and load of every staff member of the tenant who has a console status."""
    counts = await open_counts(session, tenant_id)
    agents = (await session.execute(select(ConsoleAgent).where(ConsoleAgent.tenant_id == tenant_id))).scalars()
    return [
        AgentLoad(a.user_id, a.status, a.max_concurrent, counts.get(a.user_id, 0), a.last_assigned_at) for a in agents
    ]


async def set_status(
    session: AsyncSession,
    tenant_id: str,
    user_id: str,
    status: str,
    now: datetime,
    *,
    max_concurrent: int | None = None,
) -> ConsoleAgent:
    if status not in AGENT_STATUSES:
        raise InvalidRequest(f"status must be one of: {', '.join(AGENT_STATUSES)}")
    if max_concurrent is not None and not 1 <= max_concurrent <= 50:
        raise InvalidRequest("the concurrent limit must be between 1 and 50")
    agent = await session.get(ConsoleAgent, (tenant_id, user_id))
    if agent is None:
        agent = ConsoleAgent(
            tenant_id=tenant_id, user_id=user_id, status=status, max_concurrent=DEFAULT_MAX_CONCURRENT, updated_at=now
        )
        session.add(agent)
    agent.status = status
    if max_concurrent is not None:
        agent.max_concurrent = max_concurrent
    agent.updated_at = now
    await session.flush()
    publish_after_commit(session, tenant_id, {"kind": "agent.status", "user": user_id, "status": status})
    return agent


async def can_answer(session: AsyncSession, tenant_id: str, user_id: str) -> bool:
    """A staff member whose role in the tenant may reply to customers."""
    role = effective_role(await memberships_of(session, user_id), tenant_id)
    return role is not None and allows(role, "conversations.reply")


async def team_of(session: AsyncSession, handoff: Handoff) -> int | None:
    route = await session.get(HandoffRoute, handoff.id)
    if route is not None and route.team_id is not None:
        return route.team_id
    teams = (await session.execute(select(ConsoleTeam).where(ConsoleTeam.tenant_id == handoff.tenant_id))).scalars()
    catch_all = None
    for team in teams:
        if handoff.reason in (team.reasons or []):
            return team.id
        if not team.reasons and catch_all is None:
            catch_all = team.id
    return catch_all


async def teams_by_handoff(session: AsyncSession, tenant_id: str, handoffs: Sequence[Handoff]) -> dict[int, int | None]:
    """`team_of` for many handoffs in two queries."""
    teams = list((await session.execute(select(ConsoleTeam).where(ConsoleTeam.tenant_id == tenant_id))).scalars())
    routed: dict[int, int | None] = {}
    ids = [h.id for h in handoffs]
    for start in range(0, len(ids), 500):
        rows = await session.execute(
            select(HandoffRoute.handoff_id, HandoffRoute.team_id).where(
                HandoffRoute.handoff_id.in_(ids[start : start + 500])
            )
        )
        routed.update({int(h): t for h, t in rows.all()})
    by_reason: dict[str, int] = {}
    catch_all = None
    for team in sorted(teams, key=lambda t: t.id):
        for reason in team.reasons or []:
            by_reason.setdefault(str(reason), team.id)
        if not team.reasons and catch_all is None:
            catch_all = team.id
    return {h.id: routed.get(h.id) or by_reason.get(h.reason, catch_all) for h in handoffs}


async def _team_members(session: AsyncSession, team_id: int) -> set[str]:
    rows = await session.execute(select(ConsoleTeamMember.user_id).where(ConsoleTeamMember.team_id == team_id))
    return {str(user) for user in rows.scalars()}


async def _open_handoff(session: AsyncSession, tenant_id: str, handoff_id: int) -> Handoff:
    row = await session.scalar(select(Handoff).where(Handoff.id == handoff_id, Handoff.tenant_id == tenant_id))
    if row is None:
        raise NotFound("no such conversation in this tenant")
    if row.status not in OPEN_HANDOFF:
        raise Conflict(f"the conversation is no longer open ({row.status})")
    return row


async def _move(
    session: AsyncSession,
    handoff: Handoff,
    *,
    to: str | None,
    by: str,
    action: str,
    now: datetime,
    team_id: int | None = None,
) -> None:
    """Set the assignee if nobody changed it meanwhile; record, route, and announce."""
    before = handoff.assigned_to
    guard = Handoff.assigned_to.is_(None) if before is None else Handoff.assigned_to == before
    result = await session.execute(
        update(Handoff)
        .where(Handoff.id == handoff.id, guard, Handoff.status.in_(OPEN_HANDOFF))
        .values(assigned_to=to)
        .execution_options(synchronize_session=False)
    )
    if getattr(result, "rowcount", 0) != 1:
        raise Conflict("someone else changed this conversation a moment ago: reload and try again")
    handoff.assigned_to = to
    route = await session.get(HandoffRoute, handoff.id)
    if route is None:
        route = HandoffRoute(handoff_id=handoff.id, tenant_id=handoff.tenant_id, transfers=0)
        session.add(route)
    if team_id is not None:
        route.team_id = team_id
    if to is not None:
        route.assigned_at, route.assigned_by = now, by
        agent = await session.get(ConsoleAgent, (handoff.tenant_id, to))
        if agent is not None:
            agent.last_assigned_at = now
    if action in ("transfer", "assign", "release") and before is not None:
        route.transfers = (route.transfers or 0) + 1
    await session.flush()
    fields: dict[str, object] = {"handoff": str(handoff.id), "action": action, "by": by}
    if to is not None:
        fields["to"] = staff_ref(to)
    if before is not None:
        fields["previous"] = staff_ref(before)
    if team_id is not None:
        fields["team"] = str(team_id)
    actor = None if by == AUTO else by
    await audit.record(
        EventType.CONVERSATION_ASSIGNED, tenant=handoff.tenant_id, fields=fields, actor=actor, at=now, session=session
    )
    publish_after_commit(
        session, handoff.tenant_id, {"kind": "handoff.assigned", "handoff_id": handoff.id, "to": to, "action": action}
    )


async def take(session: AsyncSession, tenant_id: str, handoff_id: int, user_id: str, now: datetime) -> Handoff:
    """The staff member takes a conversation nobody has yet."""
    handoff = await _open_handoff(session, tenant_id, handoff_id)
    if handoff.assigned_to == user_id:
        return handoff
    if handoff.assigned_to is not None:
        raise Conflict("this conversation already has an agent: ask a supervisor to transfer it")
    await _move(session, handoff, to=user_id, by=staff_ref(user_id), action="take", now=now)
    return handoff


async def assign(
    session: AsyncSession,
    tenant_id: str,
    handoff_id: int,
    *,
    to: str,
    actor_id: str,
    supervisor: bool,
    now: datetime,
) -> Handoff:
    """Give a conversation to `to`: a supervisor assigns any; an agent transfers only their own, and
    only to a colleague who is available and under their limit."""
    handoff = await _open_handoff(session, tenant_id, handoff_id)
    if not supervisor and handoff.assigned_to != actor_id:
        raise NotFound("no such conversation among yours")
    if to == handoff.assigned_to:
        return handoff
    if not await can_answer(session, tenant_id, to):
        raise InvalidRequest("that person cannot answer conversations in this tenant")
    if not supervisor:
        load = next((a for a in await agent_loads(session, tenant_id) if a.user_id == to), None)
        if load is None or not load.has_room:
            raise Conflict("that colleague is away or at their limit: choose another, or ask a supervisor")
    action = "assign" if supervisor and handoff.assigned_to != actor_id else "transfer"
    await _move(session, handoff, to=to, by=staff_ref(actor_id), action=action, now=now)
    return handoff


async def to_team(
    session: AsyncSession,
    tenant_id: str,
    handoff_id: int,
    *,
    team_id: int,
    actor_id: str,
    supervisor: bool,
    now: datetime,
) -> Handoff:
    """Put a conversation back in the waiting queue of a team (its owner or a supervisor)."""
    handoff = await _open_handoff(session, tenant_id, handoff_id)
    if not supervisor and handoff.assigned_to != actor_id:
        raise NotFound("no such conversation among yours")
    team = await session.get(ConsoleTeam, team_id)
    if team is None or team.tenant_id != tenant_id:
        raise NotFound("no such team in this tenant")
    action = "release" if handoff.assigned_to is not None else "route"
    await _move(session, handoff, to=None, by=staff_ref(actor_id), action=action, now=now, team_id=team_id)
    return handoff


async def auto_assign_tenant(
    session: AsyncSession, tenant_id: str, now: datetime, *, dialect: str, limit: int = 50
) -> list[int]:
    """Round-robin the oldest waiting unassigned handoffs of one tenant; returns the ids assigned."""
    agents_query = select(ConsoleAgent).where(ConsoleAgent.tenant_id == tenant_id, ConsoleAgent.status == AVAILABLE)
    if dialect == "postgresql":
        agents_query = agents_query.with_for_update()  # serialise assigners of one tenant across processes
    agents = list((await session.execute(agents_query)).scalars())
    if not agents:
        return []
    waiting = (
        await session.execute(
            select(Handoff)
            .where(Handoff.tenant_id == tenant_id, Handoff.status == "waiting", Handoff.assigned_to.is_(None))
            .order_by(Handoff.created_at, Handoff.id)
            .limit(limit)
        )
    ).scalars()
    counts = await open_counts(session, tenant_id)
    answerers = {a.user_id for a in agents if await can_answer(session, tenant_id, a.user_id)}
    assigned: list[int] = []
    for handoff in list(waiting):
        team_id = await team_of(session, handoff)
        members = await _team_members(session, team_id) if team_id is not None else set()
        candidates = [
            a
            for a in agents
            if a.user_id in answerers
            and counts.get(a.user_id, 0) < a.max_concurrent
            and (not members or a.user_id in members)
        ]
        if not candidates:
            continue
        epoch = datetime.min.replace(tzinfo=now.tzinfo)
        chosen = min(candidates, key=lambda a: (a.last_assigned_at or epoch, a.user_id))
        try:
            await _move(session, handoff, to=chosen.user_id, by=AUTO, action=AUTO, now=now, team_id=team_id)
        except Conflict:
            continue
        chosen.last_assigned_at = now
        counts[chosen.user_id] = counts.get(chosen.user_id, 0) + 1
        assigned.append(handoff.id)
    return assigned


async def tenants_waiting(session: AsyncSession) -> Sequence[str]:
    rows = await session.execute(
        select(Handoff.tenant_id).where(Handoff.status == "waiting", Handoff.assigned_to.is_(None)).distinct()
    )
    return [str(tenant) for tenant in rows.scalars()]


async def auto_assign(db: Database, now: datetime, tenant_id: str | None = None) -> list[int]:
    """One pass over every tenant with waiting conversations (or just `tenant_id`)."""
    async with db.sessions() as session:
        tenants = [tenant_id] if tenant_id else list(await tenants_waiting(session))
    assigned: list[int] = []
    for tenant in tenants:
        async with db.transaction() as session:
            assigned.extend(await auto_assign_tenant(session, tenant, now, dialect=db.dialect))
    return assigned


async def tenant_staff(session: AsyncSession, tenant_id: str) -> list[str]:
    rows = await session.execute(select(StaffMembership.user_id).where(StaffMembership.tenant_id == tenant_id))
    return [str(user) for user in rows.scalars()]
