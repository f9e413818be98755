"""What the inbox stores of a turn besides its replies, in the same transaction: security signals,
the step-up watch, documents to upload, and a handoff to a person (whose acknowledgement, with the
expected wait, it returns as one more reply)."""

from __future__ import annotations

import base64
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from loket.console.bus import publish_after_commit
from loket.conversation.turn import OutgoingMessage, TurnResult
from loket.db.upsert import insert_ignore
from loket.dialogue.tables import Handoff, OutgoingDocument, SecuritySignal, StepUpWatch
from loket.journeys import handoff as handoff_messages
from loket.privacy.intake import record_turn as record_privacy_requests
from loket.security.secretbox import SecretBox

DOCUMENT_TABLE = "outgoing_documents"
FIRST_CHECK_AFTER = timedelta(seconds=2)
OPEN_HANDOFF = ("waiting", "active")


def seal_document(box: SecretBox, data: bytes, key: str) -> bytes:
    return box.seal(base64.b64encode(data).decode(), table=DOCUMENT_TABLE, column="content_enc", row=key)


def open_document(box: SecretBox, blob: bytes, key: str) -> bytes:
    return base64.b64decode(box.open(blob, table=DOCUMENT_TABLE, column="content_enc", row=key))


def _request_id(state: dict[str, Any]) -> str | None:
    pending = state.get("step_up")
    return str(pending["request_id"]) if isinstance(pending, dict) and pending.get("request_id") else None


async def handoff_open(session: AsyncSession, handoff_id: int | None) -> bool:
    if handoff_id is None:
        return False
    status = (await session.execute(select(Handoff.status).where(Handoff.id == handoff_id))).scalar_one_or_none()
    return status in OPEN_HANDOFF


async def persist_turn(
    session: AsyncSession,
    *,
    dialect: str,
    box: SecretBox | None,
    tenant_id: str,
    phone_number_id: str,
    wa_id: str,
    customer_id: str | None,
    wamid: str,
    before: dict[str, Any],
    result: TurnResult,
    language: str,
    institution: str,
    call_centre: str,
    now: datetime,
) -> list[OutgoingMessage]:
    for signal in result.signals:
        session.add(
            SecuritySignal(
                tenant_id=tenant_id,
                wa_id=wa_id,
                customer_id=customer_id,
                kind=signal.kind,
                detail=dict(signal.detail),
                source_wamid=wamid,
                created_at=now,
            )
        )
    await _sync_watch(session, dialect, tenant_id, phone_number_id, wa_id, before, result, now)
    if result.privacy:  # data-subject requests, recorded with the reply that gives their reference
        await record_privacy_requests(
            session,
            result.privacy,
            dialect=dialect,
            tenant_id=tenant_id,
            wa_id=wa_id,
            customer_id=customer_id,
            language=language,
            now=now,
        )
    if result.documents and box is None:
        raise RuntimeError("documents need the SecretBox: pass box= to ConversationHandler")
    for index, document in enumerate(result.documents):
        assert box is not None
        key = f"doc:{wamid}:{index}"
        await session.execute(
            insert_ignore(dialect, OutgoingDocument, "idempotency_key").values(
                idempotency_key=key,
                tenant_id=tenant_id,
                phone_number_id=phone_number_id,
                to_wa_id=wa_id,
                filename=document.filename,
                caption=document.caption,
                mime_type=document.mime_type,
                language=language,
                content_enc=seal_document(box, document.data, key),
                status="queued",
                attempts=0,
                created_at=now,
                not_before=now,
            )
        )
    if result.handoff is None:
        return []
    ahead = (
        await session.execute(
            select(func.count()).select_from(Handoff).where(Handoff.tenant_id == tenant_id, Handoff.status == "waiting")
        )
    ).scalar_one()
    row = Handoff(
        tenant_id=tenant_id,
        phone_number_id=phone_number_id,
        wa_id=wa_id,
        customer_id=customer_id,
        language=language,
        reason=result.handoff.reason,
        summary=result.handoff.summary,
        status="waiting",
        created_at=now,
    )
    session.add(row)
    await session.flush()
    result.state["handoff"] = row.id
    publish_after_commit(session, tenant_id, {"kind": "handoff.created", "handoff_id": row.id})  # live inboxes
    return [handoff_messages.queued(language, institution, result.handoff.reason, int(ahead), call_centre)]


async def _sync_watch(
    session: AsyncSession,
    dialect: str,
    tenant_id: str,
    phone_number_id: str,
    wa_id: str,
    before: dict[str, Any],
    result: TurnResult,
    now: datetime,
) -> None:
    """Keep `step_up_watches` in step with the pending step-up in the dialogue state."""
    old, new = _request_id(before), _request_id(result.state)
    if old is not None and old != new:
        await session.execute(
            update(StepUpWatch)
            .where(StepUpWatch.tenant_id == tenant_id, StepUpWatch.request_id == old, StepUpWatch.status == "watching")
            .values(status="closed", closed_at=now)
        )
    if new is not None and new != old:
        pending = result.state["step_up"]
        await session.execute(
            insert_ignore(dialect, StepUpWatch, "tenant_id", "request_id").values(
                tenant_id=tenant_id,
                phone_number_id=phone_number_id,
                wa_id=wa_id,
                customer_id=str(pending.get("customer_id")),
                request_id=new,
                status="watching",
                expires_at=datetime.fromisoformat(str(pending["expires_at"])),
                next_check_at=now + FIRST_CHECK_AFTER,
                checks=0,
                created_at=now,
            )
        )
