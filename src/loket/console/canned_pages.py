"""Managing canned responses (supervisors: `templates.manage`): list, create, edit, retire."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import RedirectResponse, Response

from loket.console.canned import VARIABLES, CannedDraft, CannedInvalid, list_canned, retire_canned, save_canned
from loket.console.deps import ConsoleUser, console_clock, console_db, page_user, tenant_of
from loket.console.pages import ConsolePage, NavEntry
from loket.console.render import render
from loket.i18n.catalog import LANGUAGES, t
from loket.staff.web.deps import http_errors

Manager = Annotated[ConsoleUser, Depends(page_user("templates.manage"))]
PAGE = "console/conversation_canned.html"


def _tenant(user: ConsoleUser) -> str:
    with http_errors():
        return tenant_of(user)


async def _list_page(
    request: Request, user: ConsoleUser, *, status_code: int = 200, error: str | None = None, **form: Any
) -> Response:
    tenant_id = _tenant(user)
    async with console_db(request).tenant_session(tenant_id) as session:
        rows = await list_canned(session, tenant_id)
    context = {
        "rows": rows,
        "languages": LANGUAGES,
        "variables_text": ", ".join("{{" + name + "}}" for name in VARIABLES),
        "error": error,
        "form": form,
        "done": request.query_params.get("done"),
    }
    return render(request, PAGE, context, status_code=status_code)


def build_router() -> APIRouter:
    router = APIRouter()

    @router.get("/canned")
    async def canned_list(user: Manager, request: Request) -> Response:
        return await _list_page(request, user)

    @router.post("/canned")
    async def canned_save(user: Manager, request: Request) -> Response:
        tenant_id = _tenant(user)
        form = await request.form()
        values = {
            k: v[:5000] for k in ("id", "shortcut", "title", "language", "body") if isinstance(v := form.get(k), str)
        }
        raw_id = values.get("id", "")
        try:
            draft = CannedDraft.parse(
                values.get("shortcut", ""), values.get("title", ""), values.get("language", ""), values.get("body", "")
            )
            async with console_db(request).tenant_session(tenant_id) as session:
                await save_canned(
                    session,
                    tenant_id=tenant_id,
                    staff_id=user.user_id,
                    draft=draft,
                    now=console_clock(request).now(),
                    canned_id=int(raw_id) if raw_id.isdigit() else None,
                )
        except CannedInvalid as exc:
            error = t(user.language, f"console.conversation.canned.error_{exc.code}")
            return await _list_page(request, user, status_code=422, error=error, **values)
        except LookupError:
            raise HTTPException(404, detail="no such canned response in this tenant") from None
        return RedirectResponse("/console/canned?done=saved", status_code=303)

    @router.post("/canned/{canned_id}/retire")
    async def canned_retire(user: Manager, request: Request, canned_id: int) -> Response:
        tenant_id = _tenant(user)
        try:
            async with console_db(request).tenant_session(tenant_id) as session:
                await retire_canned(
                    session,
                    tenant_id=tenant_id,
                    staff_id=user.user_id,
                    canned_id=canned_id,
                    now=console_clock(request).now(),
                )
        except LookupError:
            raise HTTPException(404, detail="no such canned response in this tenant") from None
        return RedirectResponse("/console/canned?done=retired", status_code=303)

    return router


def console_pages() -> list[ConsolePage]:
    nav = NavEntry("console.conversation.canned.nav", "/console/canned", "templates.manage", order=60)
    return [ConsolePage(build_router(), nav)]
