"""The data-subject request API for staff (`/v1/privacy`, permission `dsr.manage`: the compliance
officer): list, open, verify, complete, reject, erase and export requests; set and lift legal holds;
run and read retention purges. JSON only; every step is audited by the domain functions.

Mount with `app.include_router(build_privacy_router(runtime))` on an app with staff identity installed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Response
from pydantic import BaseModel, ConfigDict, Field

from loket.audit import installed
from loket.db.scope import tenant_scope
from loket.privacy import holds, requests, retention
from loket.privacy.model import Channel, Purpose, Right, Status, TransitionError
from loket.privacy.service import PrivacyService
from loket.staff.access import Principal
from loket.staff.web.deps import require

if TYPE_CHECKING:
    from loket.runtime import Runtime

PREFIX = "/v1/privacy"
Officer = Annotated[Principal, Depends(require("dsr.manage"))]
WA_ID = r"^[0-9]{6,20}$"


class OpenBody(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    wa_id: str = Field(pattern=WA_ID, description="the person's WhatsApp number, digits only")
    right: Right
    purpose: Purpose | None = None
    customer_id: str | None = Field(default=None, max_length=64)
    language: Literal["id", "en"] = "id"
    # The officer checked the person's identity (at a branch, by a call-back): access and erasure go on.
    identity_checked: bool = False


class RejectBody(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    reason: str = Field(min_length=1, max_length=48)


class CompleteBody(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    outcome: str = Field(default="done", pattern=r"^[a-z0-9][a-z0-9_]{0,31}$")


class HoldBody(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    wa_id: str | None = Field(default=None, pattern=WA_ID, description="omit for a hold on the whole tenant")
    reason: str = Field(min_length=1, max_length=48)
    case_ref: str | None = Field(default=None, max_length=100)


class PurgeBody(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    dry_run: bool = True


def _actor(principal: Principal) -> str:
    return f"staff:{principal.user_id}"


def build_privacy_router(runtime: Runtime) -> APIRouter:
    router = APIRouter(prefix=PREFIX, tags=["privacy"])
    db, clock = runtime.db, runtime.clock

    def service() -> PrivacyService:
        return PrivacyService(db, installed(), box=runtime.box, core=runtime.core, keys=runtime.keys, clock=clock)

    def refused(exc: Exception) -> HTTPException:
        if isinstance(exc, requests.RequestNotFound):
            return HTTPException(404, str(exc))
        return HTTPException(409 if isinstance(exc, TransitionError) else 422, str(exc))

    @router.get("/requests")
    async def list_requests(
        principal: Officer,
        status: Annotated[list[Status] | None, Query()] = None,
        right: Annotated[list[Right] | None, Query()] = None,
        overdue: bool = False,
    ) -> dict[str, Any]:
        """Requests of the tenant, oldest deadline first."""
        tenant_id, now = principal.tenant(), clock.now()
        with tenant_scope(tenant_id):
            async with db.transaction() as session:
                rows = await requests.find(
                    session, tenant_id, statuses=status or [], rights=right or [], overdue_at=now if overdue else None
                )
        return {"requests": [requests.request_json(row, now) for row in rows]}

    @router.post("/requests", status_code=201)
    async def open_request(principal: Officer, body: OpenBody) -> dict[str, Any]:
        """Record a request made at a branch, by letter or by phone: the clock starts now."""
        tenant_id, now = principal.tenant(), clock.now()
        try:
            with tenant_scope(tenant_id):
                async with db.transaction() as session:
                    row = await requests.open_request(
                        session,
                        installed(),
                        requests.Subject(tenant_id, body.wa_id, body.customer_id),
                        body.right,
                        channel=Channel.CONSOLE,
                        actor=_actor(principal),
                        now=now,
                        language=body.language,
                        purpose=body.purpose,
                        verification="staff_checked" if body.identity_checked else None,
                    )
                    if body.right is Right.CONSENT_WITHDRAWAL and body.purpose is not None:
                        from loket.privacy import consent

                        changed = await consent.withdraw(
                            session,
                            installed(),
                            dialect=db.dialect,
                            tenant_id=tenant_id,
                            wa_id=body.wa_id,
                            purpose=body.purpose,
                            channel="console",
                            actor=_actor(principal),
                            now=now,
                        )
                        await requests.advance(
                            session,
                            installed(),
                            row,
                            Status.COMPLETED,
                            actor=_actor(principal),
                            now=now,
                            step="consent_withdrawn",
                            rows=changed,
                        )
                    return {"request": requests.request_json(row, now)}
        except (TransitionError, ValueError) as exc:
            raise refused(exc) from None

    @router.get("/requests/{reference}")
    async def show_request(principal: Officer, reference: str) -> dict[str, Any]:
        tenant_id = principal.tenant()
        try:
            with tenant_scope(tenant_id):
                async with db.transaction() as session:
                    row = await requests.get(session, tenant_id, reference)
                    return {"request": requests.request_json(row, clock.now())}
        except requests.RequestNotFound as exc:
            raise refused(exc) from None

    async def _step(principal: Principal, reference: str, what: str, **kwargs: Any) -> dict[str, Any]:
        tenant_id, now, actor = principal.tenant(), clock.now(), _actor(principal)
        try:
            with tenant_scope(tenant_id):
                async with db.transaction() as session:
                    row = await requests.get(session, tenant_id, reference, lock=True)
                    if what == "verify":
                        await requests.verify(session, installed(), row, method="staff_checked", actor=actor, now=now)
                    else:
                        await requests.advance(session, installed(), row, Status(what), actor=actor, now=now, **kwargs)
                    return {"request": requests.request_json(row, now)}
        except (requests.RequestNotFound, TransitionError) as exc:
            raise refused(exc) from None

    @router.post("/requests/{reference}/verify")
    async def verify_request(principal: Officer, reference: str) -> dict[str, Any]:
        """The officer has checked the person's identity (access and erasure may go on)."""
        return await _step(principal, reference, "verify")

    @router.post("/requests/{reference}/complete")
    async def complete_request(principal: Officer, reference: str, body: CompleteBody | None = None) -> dict[str, Any]:
        """Close a request handled by a person (a correction made in the core, an objection reviewed)."""
        outcome = (body or CompleteBody()).outcome
        return await _step(principal, reference, Status.COMPLETED.value, step=f"completed_{outcome}"[:64])

    @router.post("/requests/{reference}/reject")
    async def reject_request(principal: Officer, reference: str, body: RejectBody) -> dict[str, Any]:
        return await _step(principal, reference, Status.REJECTED.value, reason=body.reason)

    @router.post("/requests/{reference}/erase")
    async def erase_now(principal: Officer, reference: str) -> dict[str, Any]:
        """Carry out a verified erasure now, instead of waiting for the worker."""
        tenant_id = principal.tenant()
        try:
            with tenant_scope(tenant_id):
                await service().erase(tenant_id, reference, actor=_actor(principal))
                async with db.transaction() as session:
                    row = await requests.get(session, tenant_id, reference)
                    return {"request": requests.request_json(row, clock.now())}
        except (requests.RequestNotFound, TransitionError) as exc:
            raise refused(exc) from None

    @router.get("/requests/{reference}/export")
    async def export(
        principal: Officer, reference: str, format: Annotated[Literal["json", "pdf"], Query()] = "json"
    ) -> Response:
        """The export of the request's subject, to hand over outside WhatsApp; audited as an export."""
        tenant_id = principal.tenant()
        try:
            with tenant_scope(tenant_id):
                async with db.transaction() as session:
                    row = await requests.get(session, tenant_id, reference)
                    if Right(row.right) is not Right.ACCESS or row.verified_at is None:
                        raise TransitionError("only a verified access request has an export")
                    built = await service().build_export(session, row, actor=_actor(principal))
        except (requests.RequestNotFound, TransitionError) as exc:
            raise refused(exc) from None
        headers = {
            "Cache-Control": "no-store",
            "Content-Disposition": f'attachment; filename="{reference}.{format}"',
        }
        if format == "pdf":
            return Response(built.pdf, media_type="application/pdf", headers=headers)
        return Response(built.json, media_type="application/json", headers=headers)

    @router.get("/holds")
    async def list_holds(principal: Officer, include_lifted: bool = False) -> dict[str, Any]:
        tenant_id = principal.tenant()
        with tenant_scope(tenant_id):
            async with db.transaction() as session:
                rows = await holds.list_holds(session, tenant_id, include_lifted=include_lifted)
        return {"holds": [holds.hold_json(row) for row in rows]}

    @router.post("/holds", status_code=201)
    async def set_hold(principal: Officer, body: HoldBody) -> dict[str, Any]:
        tenant_id = principal.tenant()
        try:
            with tenant_scope(tenant_id):
                async with db.transaction() as session:
                    row = await holds.set_hold(
                        session,
                        installed(),
                        tenant_id=tenant_id,
                        wa_id=body.wa_id,
                        reason=body.reason,
                        case_ref=body.case_ref,
                        actor=_actor(principal),
                        now=clock.now(),
                    )
                    return {"hold": holds.hold_json(row)}
        except holds.HoldError as exc:
            raise HTTPException(422, str(exc)) from None

    @router.post("/holds/{hold_id}/lift")
    async def lift_hold(principal: Officer, hold_id: int) -> dict[str, Any]:
        tenant_id = principal.tenant()
        try:
            with tenant_scope(tenant_id):
                async with db.transaction() as session:
                    row = await holds.lift_hold(
                        session,
                        installed(),
                        tenant_id=tenant_id,
                        hold_id=hold_id,
                        actor=_actor(principal),
                        now=clock.now(),
                    )
                    return {"hold": holds.hold_json(row)}
        except holds.HoldError as exc:
            raise HTTPException(409, str(exc)) from None

    @router.get("/purges")
    async def list_purges(principal: Officer) -> dict[str, Any]:
        tenant_id = principal.tenant()
        with tenant_scope(tenant_id):
            async with db.transaction() as session:
                rows = await retention.last_runs(session, tenant_id)
        return {"runs": [retention.run_json(row) for row in rows]}

    @router.post("/purges")
    async def run_purge(principal: Officer, body: PurgeBody | None = None) -> dict[str, Any]:
        """Apply the retention policy to this tenant now (a dry run by default)."""
        tenant_id = principal.tenant()
        with tenant_scope(tenant_id):
            report = await retention.purge(
                db,
                installed(),
                now=clock.now(),
                dry_run=(body or PurgeBody()).dry_run,
                tenants=[tenant_id],
                actor=_actor(principal),
            )
        return report.to_json()

    return router
