"""The conversation view's routes, registered through the console's page hook (`console_pages`).

Every route works in the tenant of the staff session: a conversation id of another tenant is 404.
State-changing forms answer with a redirect back to the page (PRG), or re-render the page with the
reason and everything the staff member typed when something was refused.
"""

from __future__ import annotations

import secrets
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from babel.dates import format_date
from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import FormData, UploadFile

from loket.console.canned import CannedInvalid, fill, get_canned, has_variables, variable_values
from loket.console.conversation_access import (
    ConversationNotFound,
    NotHandedOver,
    find_conversation,
)
from loket.console.conversation_actions import NoteInvalid, add_note, close_with_csat, hand_back
from loket.console.conversation_media import serve_media
from loket.console.conversation_panel import first_name, reveal_value
from loket.console.conversation_services import ConversationServices, conversation_services
from loket.console.conversation_view import load_page, refusal_text
from loket.console.deps import ConsoleUser, page_user, tenant_of
from loket.console.files import prepare_upload
from loket.console.pages import ConsolePage
from loket.console.render import render
from loket.console.reply import ReplyRefused, client_ref, queue_reply, template_payload, text_payload
from loket.console.reveal import REASON_CATEGORIES, RevealRefused, RevealRequest, record_reveal
from loket.console.templates_pick import approved_templates, find_option
from loket.i18n.catalog import t
from loket.i18n.formatting import local_time
from loket.staff.web.deps import http_errors

Reader = Annotated[ConsoleUser, Depends(page_user("conversations.read"))]
Replier = Annotated[ConsoleUser, Depends(page_user("conversations.reply"))]
Revealer = Annotated[ConsoleUser, Depends(page_user("customers.pii.reveal"))]
Analyst = Annotated[ConsoleUser, Depends(page_user("fraud.cases"))]
Services = Annotated[ConversationServices, Depends(conversation_services)]
PAGE = "console/conversation.html"
UPLOAD_MAX = 100 * 1024 * 1024


def _tenant(user: ConsoleUser) -> str:
    with http_errors():
        return tenant_of(user)


def _field(form: FormData, name: str, limit: int = 5000) -> str:
    value = form.get(name)
    return value[:limit] if isinstance(value, str) else ""


async def _page(
    request: Request,
    services: ConversationServices,
    user: ConsoleUser,
    handoff_id: int,
    *,
    status_code: int = 200,
    audit_view: bool = False,
    **extra: Any,
) -> Response:
    tenant_id = _tenant(user)
    try:
        page = await load_page(services, user, tenant_id, handoff_id, audit_view=audit_view)
    except ConversationNotFound:
        raise HTTPException(404, detail="no such conversation in this tenant") from None
    language = user.language
    context = page.context() | {
        "fmt_time": lambda moment: local_time(moment, None, language),
        "reason_categories": REASON_CATEGORIES,
        "done": request.query_params.get("done"),
        "error": None,
        "form": {},
        "revealed": {},
        "tokens": {name: secrets.token_hex(12) for name in ("reply", "file", "template")},
    }
    context.update(extra)
    return render(request, PAGE, context, status_code=status_code)


def _back(handoff_id: int, done: str) -> RedirectResponse:
    return RedirectResponse(f"/console/conversations/{handoff_id}?done={done}#reply", status_code=303)


async def _fill_variables(
    services: ConversationServices, user: ConsoleUser, tenant_id: str, handoff_id: int, text: str
) -> str:
    if not has_variables(text):
        return text
    async with services.db.tenant_session(tenant_id) as session:
        ref = await find_conversation(session, tenant_id, handoff_id)
    language = ref.language
    now = services.clock.now().astimezone(ZoneInfo("Asia/Jakarta"))
    values = variable_values(
        first_name=await first_name(services, ref) or t(language, "console.conversation.polite_address"),
        agent=user.display_name,
        institution=user.tenant_name,
        date=format_date(now, "d MMMM yyyy", locale="id_ID" if language == "id" else "en_GB"),
    )
    return fill(text, values)


def build_router() -> APIRouter:
    router = APIRouter()

    @router.get("/conversations/{handoff_id}")
    async def view(user: Reader, request: Request, services: Services, handoff_id: int) -> Response:
        return await _page(request, services, user, handoff_id, audit_view=True)

    @router.get("/conversations/{handoff_id}/thread")
    async def thread_fragment(user: Reader, request: Request, services: Services, handoff_id: int) -> Response:
        """The thread alone, for the page's periodic refresh (no audit entry: the page view has one)."""
        tenant_id = _tenant(user)
        try:
            page = await load_page(services, user, tenant_id, handoff_id, audit_view=False, thread_only=True)
        except ConversationNotFound:
            raise HTTPException(404, detail="no such conversation in this tenant") from None
        context = page.context() | {"fmt_time": lambda moment: local_time(moment, None, user.language)}
        return render(request, "console/conversation_thread.html", context)

    @router.post("/conversations/{handoff_id}/reply")
    async def reply(user: Replier, request: Request, services: Services, handoff_id: int) -> Response:
        tenant_id = _tenant(user)
        form = await request.form()
        text, token = _field(form, "text"), _field(form, "client_ref", 64)
        canned_id = _field(form, "canned_id", 20)
        try:
            if not text.strip() and canned_id.isdigit():
                async with services.db.tenant_session(tenant_id) as session:
                    chosen = await get_canned(session, tenant_id, int(canned_id))
                if chosen is None or not chosen.active:
                    raise ReplyRefused("canned_missing")
                text = chosen.body
            body = await _fill_variables(services, user, tenant_id, handoff_id, text)
            payload = text_payload(body)
            await queue_reply(
                services,
                tenant_id=tenant_id,
                handoff_id=handoff_id,
                staff_id=user.user_id,
                payload=payload,
                ref_token=client_ref(token, services.clock.now(), body),
                action="replied",
                detail=f"canned:{canned_id}" if canned_id.isdigit() else None,
            )
        except ConversationNotFound:
            raise HTTPException(404, detail="no such conversation in this tenant") from None
        except (ReplyRefused, CannedInvalid, NotHandedOver) as exc:
            return await _refused(request, services, user, handoff_id, exc, {"text": text})
        return _back(handoff_id, "replied")

    @router.post("/conversations/{handoff_id}/template")
    async def template(user: Replier, request: Request, services: Services, handoff_id: int) -> Response:
        tenant_id = _tenant(user)
        form = await request.form()
        key, token = _field(form, "template", 600), _field(form, "client_ref", 64)
        values = {name: _field(form, name, 1000) for name in form if name.startswith(f"p:{key}:")}
        try:
            async with services.db.tenant_session(tenant_id) as session:
                option = find_option(await approved_templates(session, tenant_id), key)
            if option is None:
                raise ReplyRefused("template_missing")
            params = [values.get(f"p:{key}:{name}", "") for name in option.params]
            payload = template_payload(option, params)
            await queue_reply(
                services,
                tenant_id=tenant_id,
                handoff_id=handoff_id,
                staff_id=user.user_id,
                payload=payload,
                ref_token=client_ref(token, services.clock.now(), key, *params),
                action="template_sent",
                detail=option.name[:64],
            )
        except ConversationNotFound:
            raise HTTPException(404, detail="no such conversation in this tenant") from None
        except (ReplyRefused, NotHandedOver) as exc:
            return await _refused(request, services, user, handoff_id, exc, {"template": key, **values})
        return _back(handoff_id, "template_sent")

    @router.post("/conversations/{handoff_id}/files")
    async def send_file(user: Replier, request: Request, services: Services, handoff_id: int) -> Response:
        tenant_id = _tenant(user)
        form = await request.form(max_part_size=1024 * 1024)
        upload = form.get("file")
        caption, token = _field(form, "caption", 2000), _field(form, "client_ref", 64)
        try:
            if not isinstance(upload, UploadFile):
                raise ReplyRefused("file_empty")
            data = await upload.read(UPLOAD_MAX + 1)
            if len(data) > UPLOAD_MAX:
                raise ReplyRefused("file_size")
            prepared = await prepare_upload(
                services,
                tenant_id=tenant_id,
                handoff_id=handoff_id,
                data=data,
                filename=upload.filename or "",
                caption=caption,
            )
            await queue_reply(
                services,
                tenant_id=tenant_id,
                handoff_id=handoff_id,
                staff_id=user.user_id,
                payload=prepared.payload,
                ref_token=client_ref(token, services.clock.now(), str(prepared.payload)),
                action="file_sent",
                detail=prepared.verdict.detected,
            )
        except ConversationNotFound:
            raise HTTPException(404, detail="no such conversation in this tenant") from None
        except (ReplyRefused, NotHandedOver) as exc:
            return await _refused(request, services, user, handoff_id, exc, {"caption": caption})
        return _back(handoff_id, "file_sent")

    @router.post("/conversations/{handoff_id}/notes")
    async def note(user: Replier, request: Request, services: Services, handoff_id: int) -> Response:
        tenant_id = _tenant(user)
        form = await request.form()
        text = _field(form, "note", 5000)
        try:
            await add_note(services, tenant_id=tenant_id, handoff_id=handoff_id, staff_id=user.user_id, text=text)
        except ConversationNotFound:
            raise HTTPException(404, detail="no such conversation in this tenant") from None
        except NoteInvalid:
            error = t(user.language, "console.conversation.note_invalid")
            return await _page(request, services, user, handoff_id, status_code=422, error=error, form={"note": text})
        return _back(handoff_id, "note_added")

    @router.post("/conversations/{handoff_id}/handback")
    async def handback(user: Replier, request: Request, services: Services, handoff_id: int) -> Response:
        tenant_id = _tenant(user)
        try:
            await hand_back(services, tenant_id=tenant_id, handoff_id=handoff_id, staff_id=user.user_id)
        except ConversationNotFound:
            raise HTTPException(404, detail="no such conversation in this tenant") from None
        except NotHandedOver as exc:
            return await _refused(request, services, user, handoff_id, exc, {})
        return _back(handoff_id, "handed_back")

    @router.post("/conversations/{handoff_id}/close")
    async def close(user: Replier, request: Request, services: Services, handoff_id: int) -> Response:
        tenant_id = _tenant(user)
        try:
            closed = await close_with_csat(services, tenant_id=tenant_id, handoff_id=handoff_id, staff_id=user.user_id)
        except ConversationNotFound:
            raise HTTPException(404, detail="no such conversation in this tenant") from None
        except NotHandedOver as exc:
            return await _refused(request, services, user, handoff_id, exc, {})
        return _back(handoff_id, "closed_csat" if closed.csat_sent else "closed_no_csat")

    @router.post("/conversations/{handoff_id}/reveal")
    async def reveal(user: Revealer, request: Request, services: Services, handoff_id: int) -> Response:
        tenant_id = _tenant(user)
        form = await request.form()
        field_name, category, reason = _field(form, "field", 80), _field(form, "category", 40), _field(form, "reason")
        try:
            wanted = RevealRequest.parse(field_name, category, reason)
        except RevealRefused as exc:
            error = t(user.language, f"console.conversation.reveal.error_{exc.code}")
            form_values = {"reveal_field": field_name, "reveal_category": category, "reveal_reason": reason}
            return await _page(request, services, user, handoff_id, status_code=422, error=error, form=form_values)
        now = services.clock.now()
        async with services.db.tenant_session(tenant_id) as session:
            try:
                ref = await find_conversation(session, tenant_id, handoff_id)
            except ConversationNotFound:
                raise HTTPException(404, detail="no such conversation in this tenant") from None
            await record_reveal(
                session,
                tenant_id=tenant_id,
                staff_id=user.user_id,
                wa_id=ref.wa_id,
                conversation_id=ref.id,
                request=wanted,
                at=now,
            )
        value = await reveal_value(services, ref, wanted.field)
        shown = value if value is not None else t(user.language, "console.conversation.reveal.none")
        return await _page(request, services, user, handoff_id, revealed={wanted.field: shown})

    @router.get("/conversations/{handoff_id}/media/{media_id}")
    async def media(user: Reader, request: Request, services: Services, handoff_id: int, media_id: str) -> Response:
        return await serve_media(request, services, user, handoff_id, media_id, quarantine=False)

    @router.get("/conversations/{handoff_id}/media/{media_id}/quarantine")
    async def quarantined(
        user: Analyst, request: Request, services: Services, handoff_id: int, media_id: str
    ) -> Response:
        return await serve_media(request, services, user, handoff_id, media_id, quarantine=True)

    return router


async def _refused(
    request: Request,
    services: ConversationServices,
    user: ConsoleUser,
    handoff_id: int,
    exc: Exception,
    form: dict[str, str],
) -> Response:
    if isinstance(exc, ReplyRefused):
        rule = exc.rule
    elif isinstance(exc, CannedInvalid):
        rule = f"canned_{exc.code}"
    else:
        rule = "not_handed_over"
    error = refusal_text(user.language, rule)
    return await _page(request, services, user, handoff_id, status_code=422, error=error, form=form, refused_rule=rule)


def console_pages() -> list[ConsolePage]:
    return [ConsolePage(build_router())]
