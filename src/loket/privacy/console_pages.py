"""Data-subject request pages of the staff console (`dsr.manage`, the compliance officer): the list
with deadlines and overdue flags, a request's evidence and the steps the state machine allows, legal
holds and the last retention purges. Forms only (no script); every step is audited by the domain."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import RedirectResponse, Response

from loket.audit.log import installed
from loket.console.deps import ConsoleUser, console_clock, console_db, page_user, tenant_of
from loket.console.pages import ConsolePage, NavEntry
from loket.console.render import render
from loket.privacy import holds, requests, retention
from loket.privacy.model import OPEN, REJECTION_REASONS, Right, Status, TransitionError
from loket.privacy.service import PrivacyService
from loket.staff.web.deps import http_errors

PERMISSION = "dsr.manage"
Officer = Annotated[ConsoleUser, Depends(page_user(PERMISSION))]
ACTIONS = ("verify", "complete", "reject", "erase")


def _tenant(user: ConsoleUser) -> str:
    with http_errors():
        return tenant_of(user)


def _actor(user: ConsoleUser) -> str:
    return f"staff:{user.user_id}"


async def _field(request: Request, name: str) -> str:
    value = (await request.form()).get(name)
    return value.strip()[:100] if isinstance(value, str) else ""


def _router() -> APIRouter:
    router = APIRouter()

    @router.get("/privacy")
    async def privacy_list(user: Officer, request: Request) -> Response:
        tenant_id, now = _tenant(user), console_clock(request).now()
        show_all = request.query_params.get("show") == "all"
        async with console_db(request).tenant_session(tenant_id) as session:
            rows = await requests.find(session, tenant_id, statuses=[] if show_all else sorted(OPEN), limit=500)
            active = await holds.list_holds(session, tenant_id)
            runs = await retention.last_runs(session, tenant_id, limit=5)
        context = {
            "rows": [requests.request_json(row, now) for row in rows],
            "holds": [holds.hold_json(row) for row in active],
            "runs": [retention.run_json(row) for row in runs],
            "show": "all" if show_all else "open",
            "error": request.query_params.get("error"),
        }
        return render(request, "privacy/list.html", context)

    @router.get("/privacy/requests/{reference}")
    async def privacy_detail(user: Officer, request: Request, reference: str) -> Response:
        tenant_id, now = _tenant(user), console_clock(request).now()
        try:
            async with console_db(request).tenant_session(tenant_id) as session:
                row = await requests.get(session, tenant_id, reference)
        except requests.RequestNotFound:
            raise HTTPException(404, detail="no such request in this tenant") from None
        status, right = Status(row.status), Right(row.right)
        allowed = {
            "verify": status in (Status.RECEIVED, Status.VERIFYING),
            "complete": status is Status.IN_PROGRESS and right not in (Right.ERASURE, Right.ACCESS),
            "erase": status is Status.IN_PROGRESS and right is Right.ERASURE,
            "reject": status in OPEN,
        }
        context = {
            "r": requests.request_json(row, now),
            "allowed": allowed,
            "reasons": sorted(REJECTION_REASONS),
            "export": right is Right.ACCESS and row.verified_at is not None and row.wa_id is not None,
            "error": request.query_params.get("error"),
        }
        return render(request, "privacy/detail.html", context)

    @router.post("/privacy/requests/{reference}/{action}")
    async def privacy_step(user: Officer, request: Request, reference: str, action: str) -> Response:
        if action not in ACTIONS:
            raise HTTPException(404, detail="no such action")
        tenant_id, now, db = _tenant(user), console_clock(request).now(), console_db(request)
        reason = await _field(request, "reason")
        back = f"/console/privacy/requests/{reference}"
        try:
            if action == "erase":
                with_runtime = getattr(request.app.state, "runtime", None)
                service = PrivacyService(
                    db,
                    installed(),
                    box=getattr(with_runtime, "box", None),
                    keys=getattr(with_runtime, "keys", None),
                    clock=console_clock(request),
                )
                async with db.tenant_session(tenant_id) as session:
                    await requests.get(session, tenant_id, reference)  # this tenant's, or 404
                await service.erase(tenant_id, reference, actor=_actor(user))
            else:
                async with db.tenant_session(tenant_id) as session:
                    row = await requests.get(session, tenant_id, reference, lock=True)
                    if action == "verify":
                        await requests.verify(
                            session, installed(), row, method="staff_checked", actor=_actor(user), now=now
                        )
                    elif action == "complete":
                        await requests.advance(session, installed(), row, Status.COMPLETED, actor=_actor(user), now=now)
                    else:
                        await requests.advance(
                            session, installed(), row, Status.REJECTED, actor=_actor(user), now=now, reason=reason
                        )
        except requests.RequestNotFound:
            raise HTTPException(404, detail="no such request in this tenant") from None
        except TransitionError:
            return RedirectResponse(f"{back}?error=refused", status_code=303)
        return RedirectResponse(back, status_code=303)

    @router.get("/privacy/requests/{reference}/export.pdf")
    async def privacy_export(user: Officer, request: Request, reference: str) -> Response:
        tenant_id = _tenant(user)
        runtime = getattr(request.app.state, "runtime", None)
        service = PrivacyService(
            console_db(request),
            installed(),
            box=getattr(runtime, "box", None),
            keys=getattr(runtime, "keys", None),
            clock=console_clock(request),
        )
        try:
            async with console_db(request).tenant_session(tenant_id) as session:
                row = await requests.get(session, tenant_id, reference)
                if Right(row.right) is not Right.ACCESS or row.verified_at is None:
                    raise HTTPException(409, detail="only a verified access request has an export")
                built = await service.build_export(session, row, actor=_actor(user))
        except requests.RequestNotFound:
            raise HTTPException(404, detail="no such request in this tenant") from None
        headers = {"Cache-Control": "no-store", "Content-Disposition": f'attachment; filename="{reference}.pdf"'}
        return Response(built.pdf, media_type="application/pdf", headers=headers)

    @router.post("/privacy/holds")
    async def privacy_hold(user: Officer, request: Request) -> Response:
        tenant_id = _tenant(user)
        wa_id = await _field(request, "wa_id")
        if wa_id and not (wa_id.isdigit() and 6 <= len(wa_id) <= 20):
            return RedirectResponse("/console/privacy?error=wa_id", status_code=303)
        try:
            async with console_db(request).tenant_session(tenant_id) as session:
                await holds.set_hold(
                    session,
                    installed(),
                    tenant_id=tenant_id,
                    wa_id=wa_id or None,
                    reason=await _field(request, "reason"),
                    case_ref=await _field(request, "case_ref") or None,
                    actor=_actor(user),
                    now=console_clock(request).now(),
                )
        except holds.HoldError:
            return RedirectResponse("/console/privacy?error=hold", status_code=303)
        return RedirectResponse("/console/privacy", status_code=303)

    @router.post("/privacy/holds/{hold_id}/lift")
    async def privacy_lift(user: Officer, request: Request, hold_id: int) -> Response:
        tenant_id = _tenant(user)
        try:
            async with console_db(request).tenant_session(tenant_id) as session:
                await holds.lift_hold(
                    session,
                    installed(),
                    tenant_id=tenant_id,
                    hold_id=hold_id,
                    actor=_actor(user),
                    now=console_clock(request).now(),
                )
        except holds.HoldError:
            return RedirectResponse("/console/privacy?error=hold", status_code=303)
        return RedirectResponse("/console/privacy", status_code=303)

    return router


def console_pages() -> list[ConsolePage]:
    return [ConsolePage(_router(), NavEntry("privacy.console.nav", "/console/privacy", PERMISSION, order=60))]
