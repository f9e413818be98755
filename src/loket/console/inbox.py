"""The inbox pages: the queue by tab and team, the live event stream (SSE), taking, assigning,
transferring, and the agent's own status."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Depends, Form, HTTPException, Query, Request
from fastapi.responses import RedirectResponse, Response, StreamingResponse
from sqlalchemy import select

from loket.console import assignment
from loket.console.assigner import ensure_assigner
from loket.console.bus import InboxBus
from loket.console.deps import ConsoleUser, console_clock, console_db, page_user, tenant_of
from loket.console.queue import TABS, load_queue, teams_of
from loket.console.render import render
from loket.console.tables import AGENT_STATUSES, AWAY, ConsoleAgent
from loket.db.scope import SystemReason, system_scope
from loket.dialogue.agent_api import mask_wa_id
from loket.dialogue.persist import OPEN_HANDOFF
from loket.dialogue.tables import Handoff
from loket.staff.permissions import Role, allows
from loket.staff.service import StaffService
from loket.staff.sessions import token_digest
from loket.staff.tables import StaffMembership, StaffSession, StaffUser
from loket.staff.web.deps import http_errors, session_token, staff_of

Reader = Annotated[ConsoleUser, Depends(page_user("conversations.read"))]
Replier = Annotated[ConsoleUser, Depends(page_user("conversations.reply"))]
HEARTBEAT_SECONDS = 15.0
RECHECK_SESSION_EVERY = 4  # heartbeats


async def session_still_valid(staff: StaffService, token: str | None) -> bool:
    """Read-only: the stream must not keep a session alive, so an unattended console still times out
    (signing in again is one idle timeout away, as on any page), and a revoked session ends the stream."""
    if not token:
        return False
    now = staff.ctx.clock.now()
    with system_scope(SystemReason.STAFF_AUTH):
        async with staff.ctx.db.sessions() as session:
            row = (
                await session.execute(
                    select(StaffSession.revoked_at, StaffSession.expires_at, StaffSession.last_seen_at).where(
                        StaffSession.token_sha256 == token_digest(token)
                    )
                )
            ).first()
    if row is None or row.revoked_at is not None or now >= row.expires_at:
        return False
    return bool(now - row.last_seen_at < staff.ctx.policy.idle_timeout)


def bus_of(request: Request) -> InboxBus:
    bus = getattr(request.app.state, "console_bus", None)
    if not isinstance(bus, InboxBus):
        raise RuntimeError("the console is not installed on this app: call loket.console.app.install_console")
    return bus


def _start_assigner(request: Request) -> None:
    ensure_assigner(request.app.state, console_db(request), console_clock(request), bus_of(request))


async def _agents(request: Request, tenant_id: str) -> list[dict[str, object]]:
    """Who can answer in the tenant, with presence and load (for the assign menu and the status box)."""
    db = console_db(request)
    async with db.tenant_session(tenant_id) as session:
        loads = {a.user_id: a for a in await assignment.agent_loads(session, tenant_id)}
        rows = await session.execute(
            select(StaffMembership.user_id, StaffMembership.role, StaffUser.display_name)
            .join(StaffUser, StaffUser.id == StaffMembership.user_id)
            .where(StaffMembership.tenant_id == tenant_id, StaffUser.status == "active")
        )
        people = []
        for user_id, role, name in rows.all():
            if not allows(Role(role), "conversations.reply"):
                continue
            load = loads.get(user_id)
            people.append(
                {
                    "user_id": user_id,
                    "name": name or user_id,
                    "status": load.status if load else AWAY,
                    "open": load.open_count if load else 0,
                    "limit": load.max_concurrent if load else None,
                }
            )
    return sorted(people, key=lambda p: str(p["name"]))


async def _queue_context(request: Request, user: ConsoleUser, tab: str, team: int | None) -> dict[str, object]:
    tenant_id = tenant_of(user)
    db, clock = console_db(request), console_clock(request)
    async with db.tenant_session(tenant_id) as session:
        view = await load_queue(session, tenant_id, tab=tab, user_id=user.user_id, now=clock.now(), team_id=team)
        me = await session.get(ConsoleAgent, (tenant_id, user.user_id))
    return {
        "view": view,
        "tabs": TABS,
        "my_status": me.status if me else AWAY,
        "my_limit": me.max_concurrent if me else None,
        "statuses": AGENT_STATUSES,
        "supervisor": user.can("conversations.assign"),
    }


def _back(tab: str, team: int | None, notice: str | None = None) -> RedirectResponse:
    query = f"?tab={tab}" + (f"&team={team}" if team else "") + (f"&notice={notice}" if notice else "")
    return RedirectResponse(f"/console/inbox{query}", status_code=303)


def add_inbox_routes(router: APIRouter) -> None:
    @router.get("/inbox")
    async def inbox(
        request: Request,
        user: Reader,
        tab: Annotated[str, Query(pattern="^(waiting|mine|all)$")] = "waiting",
        team: int | None = None,
        notice: Annotated[str | None, Query(max_length=40, pattern="^[a-z_]+$")] = None,
    ) -> Response:
        _start_assigner(request)
        with http_errors():
            context = await _queue_context(request, user, tab, team)
        return render(request, "console/inbox.html", {**context, "notice": notice})

    @router.get("/inbox/rows")
    async def inbox_rows(
        request: Request,
        user: Reader,
        tab: Annotated[str, Query(pattern="^(waiting|mine|all)$")] = "waiting",
        team: int | None = None,
    ) -> Response:
        """The queue's table body and counts alone: what the live page swaps in after an event."""
        with http_errors():
            context = await _queue_context(request, user, tab, team)
        return render(request, "console/inbox_rows.html", context)

    @router.get("/inbox/events")
    async def inbox_events(request: Request, user: Reader) -> StreamingResponse:
        """Server-sent events: one `inbox` event per change in the tenant's queue (ids only)."""
        tenant_id = tenant_of(user)
        bus = bus_of(request)
        staff = staff_of(request)
        token = session_token(request)
        _start_assigner(request)

        async def stream() -> AsyncIterator[bytes]:
            async with bus.subscribe(tenant_id) as queue:
                yield b"retry: 3000\n: connected\n\n"
                beats = 0
                while True:
                    try:
                        item = await asyncio.wait_for(queue.get(), timeout=HEARTBEAT_SECONDS)
                    except TimeoutError:
                        beats += 1
                        if beats % RECHECK_SESSION_EVERY == 0 and not await session_still_valid(staff, token):
                            yield b"event: signed_out\ndata: {}\n\n"
                            return
                        yield b": ping\n\n"
                        continue
                    yield b"event: inbox\ndata: " + json.dumps(item).encode() + b"\n\n"

        headers = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
        return StreamingResponse(stream(), media_type="text/event-stream", headers=headers)

    @router.post("/inbox/{handoff_id}/take")
    async def take(
        request: Request,
        user: Replier,
        handoff_id: int,
        tab: Annotated[str, Form(pattern="^(waiting|mine|all)$")] = "waiting",
    ) -> Response:
        tenant_id = tenant_of(user)
        db, clock = console_db(request), console_clock(request)
        with http_errors():
            async with db.tenant_session(tenant_id) as session:
                await assignment.take(session, tenant_id, handoff_id, user.user_id, clock.now())
        return _back("mine" if tab == "waiting" else tab, None, "taken")

    @router.get("/inbox/{handoff_id}/assign")
    async def assign_form(request: Request, user: Replier, handoff_id: int) -> Response:
        """Whom to give the conversation to (a supervisor: anyone; its owner: an available colleague)."""
        tenant_id = tenant_of(user)
        db, clock = console_db(request), console_clock(request)
        supervisor = user.can("conversations.assign")
        async with db.tenant_session(tenant_id) as session:
            row = await session.scalar(select(Handoff).where(Handoff.id == handoff_id, Handoff.tenant_id == tenant_id))
            if row is None or row.status not in OPEN_HANDOFF or not (supervisor or row.assigned_to == user.user_id):
                raise HTTPException(404, detail="no such open conversation among those you may assign")
            teams = await teams_of(session, tenant_id)
            summary = {
                "id": row.id,
                "customer": mask_wa_id(row.wa_id),
                "reason": row.reason,
                "summary": row.summary,
                "assigned_to": row.assigned_to,
                "waiting_minutes": max(0, int((clock.now() - row.created_at).total_seconds() // 60)),
            }
        agents = [a for a in await _agents(request, tenant_id) if a["user_id"] != summary["assigned_to"]]
        context = {"handoff": summary, "agents": agents, "teams": teams, "supervisor": supervisor}
        return render(request, "console/inbox_assign.html", context)

    @router.post("/inbox/{handoff_id}/assign")
    async def assign(
        request: Request,
        user: Replier,
        handoff_id: int,
        to: Annotated[str, Form(min_length=1, max_length=64)],
        tab: Annotated[str, Form(pattern="^(waiting|mine|all)$")] = "all",
    ) -> Response:
        """A supervisor assigns any open conversation; an agent transfers their own to an available colleague."""
        tenant_id = tenant_of(user)
        db, clock = console_db(request), console_clock(request)
        with http_errors():
            async with db.tenant_session(tenant_id) as session:
                await assignment.assign(
                    session,
                    tenant_id,
                    handoff_id,
                    to=to,
                    actor_id=user.user_id,
                    supervisor=user.can("conversations.assign"),
                    now=clock.now(),
                )
        return _back(tab, None, "assigned")

    @router.post("/inbox/{handoff_id}/team")
    async def to_team(
        request: Request,
        user: Replier,
        handoff_id: int,
        team: Annotated[int, Form()],
        tab: Annotated[str, Form(pattern="^(waiting|mine|all)$")] = "all",
    ) -> Response:
        """Put the conversation back in a team's waiting queue (its owner, or a supervisor)."""
        tenant_id = tenant_of(user)
        db, clock = console_db(request), console_clock(request)
        with http_errors():
            async with db.tenant_session(tenant_id) as session:
                await assignment.to_team(
                    session,
                    tenant_id,
                    handoff_id,
                    team_id=team,
                    actor_id=user.user_id,
                    supervisor=user.can("conversations.assign"),
                    now=clock.now(),
                )
        return _back(tab, None, "transferred")

    @router.post("/status")
    async def set_status(
        request: Request,
        user: Replier,
        status: Annotated[str, Form(max_length=16)],
        max_concurrent: Annotated[int | None, Form(ge=1, le=50)] = None,
        next: Annotated[str, Form(max_length=200)] = "/console/inbox",
    ) -> Response:
        """The agent's own presence (available, away) and, for themselves, their concurrent limit."""
        if status not in AGENT_STATUSES:
            raise HTTPException(422, detail=f"status must be one of: {', '.join(AGENT_STATUSES)}")
        tenant_id = tenant_of(user)
        db, clock = console_db(request), console_clock(request)
        with http_errors():
            async with db.tenant_session(tenant_id) as session:
                await assignment.set_status(
                    session, tenant_id, user.user_id, status, clock.now(), max_concurrent=max_concurrent
                )
        _start_assigner(request)
        target = next if next.startswith("/console/") and not next.startswith("//") else "/console/inbox"
        return RedirectResponse(target, status_code=303)


__all__ = ["add_inbox_routes", "bus_of"]
