"""Teams, for supervisors (`conversations.assign`): queues inside a tenant, each taking the handoff
reasons it lists (none listed: the rest), and who works in them. Every change is audited."""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from loket import audit
from loket.audit import EventType
from loket.console.assignment import can_answer, staff_ref
from loket.console.deps import ConsoleUser, console_clock, console_db, page_user, tenant_of
from loket.console.render import render
from loket.console.tables import ConsoleTeam, ConsoleTeamMember, HandoffRoute
from loket.dialogue.tables import Handoff
from loket.staff.permissions import Role, allows
from loket.staff.tables import StaffMembership, StaffUser

Supervisor = Annotated[ConsoleUser, Depends(page_user("conversations.assign"))]
REASON = re.compile(r"[a-z][a-z0-9_]{0,31}")


def parse_reasons(text: str) -> list[str]:
    reasons = [part.strip() for part in text.replace(";", ",").split(",") if part.strip()]
    wrong = [reason for reason in reasons if not REASON.fullmatch(reason)]
    if wrong:
        raise HTTPException(422, detail=f"not a handoff reason code: {', '.join(wrong)} (e.g. complaint, card_blocked)")
    return sorted(set(reasons))


async def _team(session: AsyncSession, tenant_id: str, team_id: int) -> ConsoleTeam:
    team = await session.get(ConsoleTeam, team_id)
    if team is None or team.tenant_id != tenant_id:
        raise HTTPException(404, detail="no such team in this tenant")
    return team


async def _record(session: AsyncSession, user: ConsoleUser, tenant_id: str, what: str, request: Request) -> None:
    await audit.record(
        EventType.CONFIG_CHANGED,
        tenant=tenant_id,
        fields={"setting": f"console.teams.{what}", "by": staff_ref(user.user_id)},
        actor=staff_ref(user.user_id),
        at=console_clock(request).now(),
        session=session,
    )


def add_team_routes(router: APIRouter) -> None:
    @router.get("/teams")
    async def teams(request: Request, user: Supervisor) -> Response:
        tenant_id = tenant_of(user)
        async with console_db(request).tenant_session(tenant_id) as session:
            rows = list(
                (
                    await session.execute(
                        select(ConsoleTeam).where(ConsoleTeam.tenant_id == tenant_id).order_by(ConsoleTeam.name)
                    )
                ).scalars()
            )
            members: dict[int, list[tuple[str, str]]] = {team.id: [] for team in rows}
            found = await session.execute(
                select(ConsoleTeamMember.team_id, StaffUser.id, StaffUser.display_name)
                .join(StaffUser, StaffUser.id == ConsoleTeamMember.user_id)
                .where(ConsoleTeamMember.team_id.in_(list(members)))
                .order_by(StaffUser.display_name)
            )
            for team_id, user_id, name in found.all():
                members[int(team_id)].append((str(user_id), str(name)))
            staff = await session.execute(
                select(StaffMembership.user_id, StaffMembership.role, StaffUser.display_name)
                .join(StaffUser, StaffUser.id == StaffMembership.user_id)
                .where(StaffMembership.tenant_id == tenant_id, StaffUser.status == "active")
                .order_by(StaffUser.display_name)
            )
            people = [(str(u), str(n)) for u, role, n in staff.all() if allows(Role(role), "conversations.reply")]
            reasons = sorted(
                str(r)
                for r in (
                    await session.execute(select(Handoff.reason).where(Handoff.tenant_id == tenant_id).distinct())
                ).scalars()
            )
        context = {"teams": rows, "members": members, "people": people, "known_reasons": reasons}
        return render(request, "console/teams.html", context)

    @router.post("/teams")
    async def create_team(
        request: Request,
        user: Supervisor,
        name: Annotated[str, Form(min_length=1, max_length=100)],
        reasons: Annotated[str, Form(max_length=500)] = "",
    ) -> Response:
        tenant_id = tenant_of(user)
        chosen = parse_reasons(reasons)
        async with console_db(request).tenant_session(tenant_id) as session:
            taken = await session.scalar(
                select(ConsoleTeam.id).where(ConsoleTeam.tenant_id == tenant_id, ConsoleTeam.name == name.strip())
            )
            if taken is not None:
                raise HTTPException(409, detail="a team with that name exists already")
            session.add(
                ConsoleTeam(
                    tenant_id=tenant_id, name=name.strip(), reasons=chosen, created_at=console_clock(request).now()
                )
            )
            await session.flush()
            await _record(session, user, tenant_id, "created", request)
        return RedirectResponse("/console/teams", status_code=303)

    @router.post("/teams/{team_id}/members")
    async def add_member(
        request: Request, user: Supervisor, team_id: int, member: Annotated[str, Form(min_length=1, max_length=64)]
    ) -> Response:
        tenant_id = tenant_of(user)
        async with console_db(request).tenant_session(tenant_id) as session:
            await _team(session, tenant_id, team_id)
            if not await can_answer(session, tenant_id, member):
                raise HTTPException(422, detail="that person cannot answer conversations in this tenant")
            if await session.get(ConsoleTeamMember, (team_id, member)) is None:
                session.add(ConsoleTeamMember(team_id=team_id, user_id=member))
                await session.flush()
                await _record(session, user, tenant_id, "member_added", request)
        return RedirectResponse("/console/teams", status_code=303)

    @router.post("/teams/{team_id}/members/{member}/remove")
    async def remove_member(request: Request, user: Supervisor, team_id: int, member: str) -> Response:
        tenant_id = tenant_of(user)
        async with console_db(request).tenant_session(tenant_id) as session:
            await _team(session, tenant_id, team_id)
            await session.execute(
                delete(ConsoleTeamMember).where(
                    ConsoleTeamMember.team_id == team_id, ConsoleTeamMember.user_id == member
                )
            )
            await _record(session, user, tenant_id, "member_removed", request)
        return RedirectResponse("/console/teams", status_code=303)

    @router.post("/teams/{team_id}/delete")
    async def delete_team(request: Request, user: Supervisor, team_id: int) -> Response:
        """Its conversations go back to routing by reason; its members stay staff."""
        tenant_id = tenant_of(user)
        async with console_db(request).tenant_session(tenant_id) as session:
            team = await _team(session, tenant_id, team_id)
            await session.execute(delete(ConsoleTeamMember).where(ConsoleTeamMember.team_id == team_id))
            routes = await session.execute(select(HandoffRoute).where(HandoffRoute.team_id == team_id))
            for route in routes.scalars():
                route.team_id = None
            await session.delete(team)
            await _record(session, user, tenant_id, "deleted", request)
        return RedirectResponse("/console/teams", status_code=303)
