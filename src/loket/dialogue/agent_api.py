"""The agent API (until the console exists): list conversations waiting for a person, read what the
customer wrote (already redacted by the secret shield), reply through the outbox, hand back to the
bot. Protected by the staff permission system: `conversations.read` and `conversations.reply`, in
the tenant the staff session is bound to.

Mount with `app.include_router(build_agent_router(runtime.db, clock=runtime.clock))` on an app where
staff identity is installed (`loket.staff.web.install_staff`).
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from loket.channel.limits import TEXT_BODY_MAX
from loket.channel.outgoing import Text
from loket.clock import Clock, system_clock
from loket.db.engine import Database
from loket.db.models import InboundMessage
from loket.dialogue.persist import OPEN_HANDOFF
from loket.dialogue.tables import Handoff
from loket.i18n.catalog import t
from loket.inbox.sealing import open_text
from loket.outbound.outbox import Purpose, enqueue
from loket.security.dlp_outbound import asks_for_secret
from loket.security.keystore import KeyStore, current_keystore
from loket.staff.access import Principal
from loket.staff.web.deps import no_store, require

PREFIX = "/v1/agent"
Reader = Annotated[Principal, Depends(require("conversations.read"))]
Replier = Annotated[Principal, Depends(require("conversations.reply"))]


class ReplyBody(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    text: str = Field(min_length=1, max_length=TEXT_BODY_MAX)
    # The same client_ref twice sends once (a retried request after a timeout).
    client_ref: str | None = Field(default=None, max_length=64)


def mask_wa_id(wa_id: str) -> str:
    return wa_id[:4] + "•" * max(0, len(wa_id) - 8) + wa_id[-4:] if len(wa_id) > 8 else "••••"


def handoff_json(row: Handoff, now: datetime) -> dict[str, Any]:
    return {
        "id": row.id,
        "status": row.status,
        "reason": row.reason,
        "summary": row.summary,
        "language": row.language,
        "customer": mask_wa_id(row.wa_id),
        "customer_id": row.customer_id,
        "assigned_to": row.assigned_to,
        "created_at": row.created_at.isoformat(),
        "waiting_seconds": int((now - row.created_at).total_seconds()) if row.status == "waiting" else None,
    }


async def _open_handoff(session: AsyncSession, principal: Principal, handoff_id: int) -> Handoff:
    row = (
        await session.execute(select(Handoff).where(Handoff.id == handoff_id, Handoff.tenant_id == principal.tenant()))
    ).scalar_one_or_none()
    if row is None:
        raise HTTPException(404, detail="no such conversation in this tenant")
    if row.status not in OPEN_HANDOFF:
        raise HTTPException(409, detail=f"the conversation was already handed back ({row.status})")
    return row


def build_agent_router(db: Database, *, clock: Clock = system_clock, keys: KeyStore | None = None) -> APIRouter:
    """`keys`: the key store that opens sealed message contents (default: the process's)."""
    router = APIRouter(prefix=PREFIX, tags=["agent"], dependencies=[Depends(no_store)])

    @router.get("/conversations")
    async def waiting(
        principal: Reader, status: Annotated[str, Query(pattern="^(waiting|active|open)$")] = "open"
    ) -> dict[str, Any]:
        """Conversations handed to a person, oldest first: `waiting` (no reply yet), `active`, or both."""
        wanted = OPEN_HANDOFF if status == "open" else (status,)
        async with db.sessions() as session:
            rows = (
                (
                    await session.execute(
                        select(Handoff)
                        .where(Handoff.tenant_id == principal.tenant(), Handoff.status.in_(wanted))
                        .order_by(Handoff.created_at, Handoff.id)
                        .limit(200)
                    )
                )
                .scalars()
                .all()
            )
        now = clock.now()
        return {"conversations": [handoff_json(row, now) for row in rows]}

    @router.get("/conversations/{handoff_id}/messages")
    async def messages(principal: Reader, handoff_id: int) -> dict[str, Any]:
        """The customer's last messages as Loket stored them (secrets redacted at the door)."""
        async with db.sessions() as session:
            row = await _open_handoff(session, principal, handoff_id)
            found = (
                await session.execute(
                    select(
                        InboundMessage.wamid,
                        InboundMessage.kind,
                        InboundMessage.text,
                        InboundMessage.sealed,
                        InboundMessage.received_at,
                    )
                    .where(InboundMessage.tenant_id == row.tenant_id, InboundMessage.wa_id == row.wa_id)
                    .where(InboundMessage.kind != "step_up")
                    .order_by(InboundMessage.id.desc())
                    .limit(20)
                )
            ).all()
            store = keys or current_keystore()
            items = [
                {
                    "kind": kind,
                    "text": await open_text(store, session, wamid, text, sealed),
                    "received_at": at.isoformat(),
                }
                for wamid, kind, text, sealed, at in reversed(found)
            ]
        return {"conversation": handoff_json(row, clock.now()), "messages": items}

    @router.post("/conversations/{handoff_id}/reply", status_code=202)
    async def reply(principal: Replier, handoff_id: int, body: ReplyBody) -> dict[str, Any]:
        """Queue a reply to the customer; it goes out through the outbox and the policy gate."""
        if asks_for_secret(body.text) is not None:
            raise HTTPException(422, detail="Loket never asks a customer for a PIN, OTP, password, CVV or card number")
        now = clock.now()
        ref = body.client_ref or hashlib.sha256(f"{now.isoformat()}|{body.text}".encode()).hexdigest()[:24]
        async with db.transaction() as session:
            row = await _open_handoff(session, principal, handoff_id)
            await enqueue(
                session,
                dialect=db.dialect,
                tenant_id=row.tenant_id,
                phone_number_id=row.phone_number_id,
                to_wa_id=row.wa_id,
                payload=dict(Text(body=body.text).to_payload()),
                purpose=Purpose.SERVICE,
                idempotency_key=f"agent:{row.id}:{ref}",
                now=now,
                origin=f"agent:{principal.user_id}",
            )
            row.status = "active"
            row.assigned_to = row.assigned_to or principal.user_id
            row.first_reply_at = row.first_reply_at or now
            answer = handoff_json(row, now)
        return {"conversation": answer, "queued": True}

    @router.post("/conversations/{handoff_id}/handback")
    async def handback(principal: Replier, handoff_id: int) -> dict[str, Any]:
        """Give the conversation back to the bot and tell the customer."""
        now = clock.now()
        async with db.transaction() as session:
            row = await _open_handoff(session, principal, handoff_id)
            row.status, row.closed_at, row.closed_by = "closed", now, principal.user_id
            await enqueue(
                session,
                dialect=db.dialect,
                tenant_id=row.tenant_id,
                phone_number_id=row.phone_number_id,
                to_wa_id=row.wa_id,
                payload=dict(Text(body=t(row.language, "handoff.back")).to_payload()),
                purpose=Purpose.SERVICE,
                idempotency_key=f"agent:{row.id}:handback",
                now=now,
                origin=f"agent:{principal.user_id}",
            )
            answer = handoff_json(row, now)
        return {"conversation": answer}

    return router
