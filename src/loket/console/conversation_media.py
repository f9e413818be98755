"""Serving a customer's file to staff: only a file of this conversation, fetched through the channel,
judged by its bytes; dangerous files are never served except as a quarantined download for fraud
analysts. Every view is audited."""

from __future__ import annotations

from fastapi import HTTPException, Request
from fastapi.responses import Response

from loket.console.conversation_access import ConversationNotFound, find_conversation, record_action
from loket.console.conversation_services import ConversationServices
from loket.console.deps import ConsoleUser, tenant_of
from loket.console.files import MediaUnavailable, fetch_customer_file, media_in_conversation
from loket.console.render import render
from loket.staff.web.deps import http_errors

FILE_PAGE = "console/conversation_file.html"


async def serve_media(
    request: Request,
    services: ConversationServices,
    user: ConsoleUser,
    handoff_id: int,
    media_id: str,
    *,
    quarantine: bool,
) -> Response:
    with http_errors():
        tenant_id = tenant_of(user)
    async with services.db.tenant_session(tenant_id) as session:
        try:
            ref = await find_conversation(session, tenant_id, handoff_id)
        except ConversationNotFound:
            raise HTTPException(404, detail="no such conversation in this tenant") from None
        declared = await media_in_conversation(session, ref, media_id, services.box)
    if declared is None:
        raise HTTPException(404, detail="no such file in this conversation")
    try:
        fetched = await fetch_customer_file(services, ref, media_id, declared)
    except MediaUnavailable:
        return render(
            request,
            FILE_PAGE,
            {"handoff_id": handoff_id, "problem": "unavailable", "detected": None},
            status_code=502,
        )
    verdict = fetched.verdict
    now = services.clock.now()
    action = "file_quarantine_download" if quarantine else "file_viewed"
    if verdict.dangerous and not quarantine:
        action = "file_blocked"
    async with services.db.tenant_session(tenant_id) as session:
        await record_action(
            session,
            ref,
            staff_id=user.user_id,
            action=action,
            at=now,
            target=f"media:{media_id}"[:200],
            detail=verdict.why,
        )
    if quarantine:
        return Response(
            fetched.data,
            media_type="application/octet-stream",
            headers={
                "Content-Disposition": f'attachment; filename="{fetched.filename}.quarantine"',
                "X-Content-Type-Options": "nosniff",
                "Content-Security-Policy": "sandbox; default-src 'none'",
                "Cache-Control": "no-store",
            },
        )
    if verdict.dangerous:
        return render(
            request,
            FILE_PAGE,
            {
                "handoff_id": handoff_id,
                "problem": "dangerous",
                "detected": verdict.detected,
                "media_id": media_id,
            },
            status_code=403,
        )
    disposition = "inline" if verdict.previewable else f'attachment; filename="{fetched.filename}"'
    return Response(
        fetched.data,
        media_type=verdict.mime_type,
        headers={
            "Content-Disposition": disposition,
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "sandbox; default-src 'none'",
            "Cache-Control": "private, no-store",
        },
    )
