"""Complaint pages of the staff console (hooked into loket.console by `console_pages()`).

List with SLA clocks, registration from phone/branch/email/walk-in, detail with history and the
actions the rules allow, APPK CSV import, and the OJK report download. Every change is audited by the
desk; opening a complaint's detail (its personal text) is audited as a `viewed` milestone.
"""

from __future__ import annotations

import hashlib
from datetime import date, datetime, time
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select, update
from starlette.datastructures import UploadFile

from loket.audit import EventType
from loket.audit.log import installed as audit_installed
from loket.complaints.appk import REQUIRED, ImportFileError, import_appk
from loket.complaints.desk import ComplaintDesk, ComplaintError, NewComplaint
from loket.complaints.model import CAUSES, FINAL, PRODUCTS, Channel, Document, Kind, Status, TransitionError
from loket.complaints.queries import build_report, listing_rows
from loket.complaints.report import FORMATS
from loket.complaints.services import calendar_from_settings, open_alerts, policy_from_settings
from loket.complaints.sla import Form, SlaError, urgency
from loket.complaints.tables import ComplaintAlert
from loket.console.deps import ConsoleUser, console_clock, console_db, page_user, tenant_of
from loket.console.pages import ConsolePage, NavEntry
from loket.console.render import render
from loket.security.secretbox import SecretBox

MANAGE = "complaints.manage"
REPORT = "complaints.report"
CONSOLE_CHANNELS = (Channel.PHONE, Channel.BRANCH, Channel.EMAIL, Channel.WALK_IN)
_CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pdf": "application/pdf",
}
Manager = Annotated[ConsoleUser, Depends(page_user(MANAGE))]
Reporter = Annotated[ConsoleUser, Depends(page_user(REPORT))]


def desk_of(request: Request) -> ComplaintDesk:
    """The process's desk (Runtime.complaints), or one made for an app without a Runtime (tests)."""
    runtime = getattr(request.app.state, "runtime", None)
    services = getattr(runtime, "complaints", None)
    if services is not None:
        return services.desk  # type: ignore[no-any-return]
    desk: ComplaintDesk | None = getattr(request.app.state, "complaint_desk", None)
    if desk is None:
        settings = runtime.settings if runtime is not None else None
        if settings is None:
            raise RuntimeError("no complaint desk: set app.state.complaint_desk or run with a Runtime")
        desk = ComplaintDesk(
            dialect=console_db(request).dialect,
            box=SecretBox(settings.master_key_bytes),
            calendar=calendar_from_settings(settings),
            policy=policy_from_settings(settings),
        )
        request.app.state.complaint_desk = desk
    return desk


async def _form(request: Request) -> dict[str, str]:
    form = await request.form()
    return {k: v for k, v in form.items() if isinstance(v, str)}


def _choices() -> dict[str, Any]:
    return {
        "channels": [c.value for c in CONSOLE_CHANNELS],
        "forms": [f.value for f in Form],
        "kinds": [k.value for k in Kind],
        "products": PRODUCTS,
        "causes": CAUSES,
        "outcomes": sorted(s.value for s in FINAL),
    }


def _new_from_form(tenant_id: str, values: dict[str, str], now: datetime) -> tuple[NewComplaint | None, list[str]]:
    problems: list[str] = []

    def pick(name: str, allowed: list[str] | tuple[str, ...]) -> str:
        value = values.get(name, "")
        if value not in allowed:
            problems.append(name)
        return value

    pick("product", PRODUCTS)
    pick("cause", CAUSES)
    if not values.get("summary", "").strip():
        problems.append("summary")
    channel = pick("channel", [c.value for c in CONSOLE_CHANNELS])
    form = pick("form", [f.value for f in Form])
    kind = pick("kind", [k.value for k in Kind])
    amount: int | None = None
    raw_amount = values.get("amount", "").replace(".", "").replace(",", "").strip()
    if raw_amount:
        if raw_amount.isdigit():
            amount = int(raw_amount)
        else:
            problems.append("amount")
    incident: date | None = None
    if values.get("incident_date"):
        try:
            incident = date.fromisoformat(values["incident_date"])
        except ValueError:
            problems.append("incident_date")
        else:
            if incident > now.date():
                problems.append("incident_date")
    wa_id = "".join(ch for ch in values.get("wa_id", "") if ch.isdigit()) or None
    if wa_id is not None and not 8 <= len(wa_id) <= 15:
        problems.append("wa_id")
    documents = tuple(Document(n.strip()) for n in values.get("documents_missing", "").split(",") if n.strip())
    if problems:
        return None, problems
    return (
        NewComplaint(
            tenant_id=tenant_id,
            kind=Kind(kind),
            product=values.get("product", ""),
            cause=values.get("cause", ""),
            channel=Channel(channel),
            form=Form(form),
            summary=values.get("summary", ""),
            received_at=now,
            language="en" if values.get("language") == "en" else "id",
            amount=amount,
            incident_date=incident,
            wa_id=wa_id,
            contact=values.get("contact", "").strip() or None,
            representative=values.get("representative", "").strip() or None,
            power_of_attorney=values.get("power_of_attorney") == "yes",
            documents=documents,
        ),
        [],
    )


def _router() -> APIRouter:
    router = APIRouter()

    @router.get("/complaints")
    async def complaint_list(request: Request, user: Manager, show: str = "open") -> Response:
        tenant_id = tenant_of(user)
        desk, db, now = desk_of(request), console_db(request), console_clock(request).now()
        async with db.tenant_session(tenant_id) as session:
            rows = await listing_rows(session, desk, tenant_id, now)
            alerts = await open_alerts(session, tenant_id)
        if show != "all":
            rows = [r for r in rows if r["urgency"] != "closed"]
        return render(request, "complaints/list.html", {"rows": rows, "alerts": alerts, "show": show})

    @router.get("/complaints/new")
    async def complaint_new(request: Request, user: Manager) -> Response:
        return render(request, "complaints/new.html", {"values": {}, "problems": [], **_choices()})

    @router.post("/complaints/new")
    async def complaint_create(request: Request, user: Manager) -> Response:
        tenant_id = tenant_of(user)
        desk, db, now = desk_of(request), console_db(request), console_clock(request).now()
        values = await _form(request)
        new, problems = _new_from_form(tenant_id, values, now)
        if new is not None:
            try:
                async with db.tenant_session(tenant_id) as session:
                    row, _ = await desk.register(session, new, actor=user.user_id, now=now)
                    reference = row.reference
            except ComplaintError as exc:
                problems = [p.split(":", 1)[0] for p in exc.problems]
            else:
                return RedirectResponse(f"/console/complaints/{reference}", status_code=303)
        values.pop("csrf_token", None)
        context = {"values": values, "problems": problems, **_choices()}
        return render(request, "complaints/new.html", context, status_code=422)

    @router.get("/complaints/import")
    async def complaint_import_page(request: Request, user: Manager) -> Response:
        return render(request, "complaints/import.html", {"result": None, "error": None, "required": REQUIRED})

    @router.post("/complaints/import")
    async def complaint_import(request: Request, user: Manager) -> Response:
        tenant_id = tenant_of(user)
        desk, db, now = desk_of(request), console_db(request), console_clock(request).now()
        upload = (await request.form()).get("file")
        error: str | None = None
        result = None
        if not isinstance(upload, UploadFile):
            error = "no_file"
        else:
            data = await upload.read()
            try:
                async with db.tenant_session(tenant_id) as session:
                    result = await import_appk(session, desk, tenant_id, data, actor=user.user_id, now=now)
            except ImportFileError as exc:
                error = str(exc)
        status = 200 if error is None else 422
        context = {"result": result, "error": error, "required": REQUIRED}
        return render(request, "complaints/import.html", context, status_code=status)

    @router.get("/complaints/reports")
    async def complaint_report_page(request: Request, user: Reporter) -> Response:
        today = console_clock(request).now().date()
        start = today.replace(day=1)
        return render(request, "complaints/report.html", {"start": start, "end": today, "formats": FORMATS})

    @router.get("/complaints/reports/download")
    async def complaint_report_download(
        request: Request, user: Reporter, start: str, end: str, fmt: str = "csv"
    ) -> Response:
        tenant_id = tenant_of(user)
        desk, db, now = desk_of(request), console_db(request), console_clock(request).now()
        try:
            first, last = date.fromisoformat(start), date.fromisoformat(end)
        except ValueError:
            first = last = date.min
        if first == date.min or last < first or fmt not in FORMATS:
            context = {"start": start, "end": end, "formats": FORMATS, "error": True}
            return render(request, "complaints/report.html", context, status_code=422)
        async with db.tenant_session(tenant_id) as session:
            report = await build_report(session, desk, tenant_id, first, last, now)
            data = report.render(fmt)
            await audit_installed().record(
                EventType.EXPORT_CREATED,
                tenant=tenant_id,
                fields={
                    "export": f"complaints:{first}:{last}",
                    "kind": f"complaint_report_{fmt}",
                    "by": user.user_id,
                    "rows": len(report.rows),
                    "sha256": hashlib.sha256(data).hexdigest(),
                },
                actor=user.user_id,
                at=now,
                session=session,
            )
        name = f"pengaduan-{tenant_id}-{first}-{last}.{fmt}"
        return Response(
            data,
            media_type=_CONTENT_TYPES[fmt],
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )

    @router.get("/complaints/{reference}")
    async def complaint_detail(request: Request, user: Manager, reference: str) -> Response:
        tenant_id = tenant_of(user)
        desk, db, now = desk_of(request), console_db(request), console_clock(request).now()
        async with db.tenant_session(tenant_id) as session:
            row = await desk.find(session, tenant_id, reference)
            if row is None:
                return render(request, "complaints/missing.html", {"reference": reference}, status_code=404)
            view = await desk.view(session, row, now)
            alerts = (
                (
                    await session.execute(
                        select(ComplaintAlert).where(ComplaintAlert.complaint_id == row.id).order_by(ComplaintAlert.id)
                    )
                )
                .scalars()
                .all()
            )
            await audit_installed().record(
                EventType.COMPLAINT_MILESTONE,
                tenant=tenant_id,
                fields={"complaint": row.reference, "milestone": "viewed", "by": user.user_id},
                actor=user.user_id,
                at=now,
                session=session,
            )
            notice = await desk.last_extension_notice(session, row)
        reading = view.reading
        context = {
            "c": row,
            "view": view,
            "reading": reading,
            "urgency": urgency(reading, desk.policy).value if row.closed_at is None else "closed",
            "alerts": alerts,
            "open": Status(row.status) not in FINAL,
            "extension_notice_at": notice,
            "error": request.query_params.get("error"),
            **_choices(),
        }
        return render(request, "complaints/detail.html", context)

    @router.post("/complaints/{reference}/{action}")
    async def complaint_action(request: Request, user: Manager, reference: str, action: str) -> Response:
        tenant_id = tenant_of(user)
        desk, db, now = desk_of(request), console_db(request), console_clock(request).now()
        values = await _form(request)
        target = f"/console/complaints/{reference}"
        try:
            async with db.tenant_session(tenant_id) as session:
                row = await desk.get(session, tenant_id, reference)
                actor = user.user_id
                if action == "start":
                    await desk.start_work(session, row, actor=actor, now=now)
                elif action == "reclassify":
                    await desk.reclassify(
                        session,
                        row,
                        kind=Kind(values.get("kind", "")),
                        product=values.get("product", ""),
                        cause=values.get("cause", ""),
                        actor=actor,
                        now=now,
                    )
                elif action == "request-documents":
                    names = values.get("documents", "").split(",")
                    await desk.request_documents(session, row, names, actor=actor, now=now)
                elif action == "documents-received":
                    await desk.documents_received(session, row, actor=actor, now=now)
                elif action == "extension-notice":
                    await desk.send_extension_notice(session, row, actor=actor, now=now)
                elif action == "extend":
                    days = int(values.get("days", "0") or 0)
                    notified = _notified_at(values.get("notified_on", ""), desk)
                    await desk.record_extension(session, row, days, actor=actor, now=now, notified_at=notified)
                elif action == "close":
                    await desk.close(
                        session, row, Status(values.get("outcome", "")), values.get("answer", ""), actor=actor, now=now
                    )
                elif action == "acknowledge":
                    await session.execute(
                        update(ComplaintAlert)
                        .where(ComplaintAlert.complaint_id == row.id, ComplaintAlert.acknowledged_at.is_(None))
                        .values(acknowledged_at=now, acknowledged_by=actor)
                    )
                    await audit_installed().record(
                        EventType.COMPLAINT_MILESTONE,
                        tenant=tenant_id,
                        fields={"complaint": row.reference, "milestone": "alerts_acknowledged", "by": actor},
                        actor=actor,
                        at=now,
                        session=session,
                    )
                else:
                    return render(request, "complaints/missing.html", {"reference": reference}, status_code=404)
        except LookupError:
            return render(request, "complaints/missing.html", {"reference": reference}, status_code=404)
        except (TransitionError, ComplaintError, SlaError, ValueError) as exc:
            return RedirectResponse(f"{target}?error={_error_code(exc)}", status_code=303)
        return RedirectResponse(target, status_code=303)

    return router


def _notified_at(raw: str, desk: ComplaintDesk) -> datetime | None:
    """A notice given outside Loket (a letter): the date it was handed over, at noon in the office zone."""
    if not raw.strip():
        return None
    return datetime.combine(date.fromisoformat(raw.strip()), time(12, 0), tzinfo=desk.policy.zone)


def _error_code(exc: Exception) -> str:
    text = str(exc)
    for code in ("customer_not_notified", "notified_after_deadline", "already_extended", "paused"):
        if code in text:
            return code
    if isinstance(exc, ComplaintError):
        return "invalid"
    return "not_allowed"


def console_pages() -> list[ConsolePage]:
    return [
        ConsolePage(
            _router(), NavEntry("complaints.console.nav", "/console/complaints", MANAGE, order=30, shortcut="k")
        )
    ]
