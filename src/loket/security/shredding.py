"""Crypto-shredding: destroy one customer's data key, so everything sealed under it is unreadable.

Every copy of the ciphertext (this database, its replicas, every backup taken before or after)
becomes noise at once, because the only wrapped copy of the key is nulled and the key itself was
never stored in the clear. What the law requires stays readable in its non-personal form: the
audit log holds keyed hashes, not ciphertext, so it still verifies; message rows keep their ids,
times and kinds; complaints and confirmation evidence hashes are not sealed under the key.

Raw webhook bodies that carried this customer together with others were sealed under the tenant's
key; those bodies are deleted (the rows under them keep their fields), which the law allows. So
are the contents of settled outgoing messages (outbox payloads are not sealed yet: ADR 0006),
their feedback comments and e-statements that were never sent.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from loket.audit.events import EventType
from loket.audit.log import current as audit_current
from loket.clock import Clock, system_clock
from loket.config import load_settings
from loket.db.engine import Database
from loket.db.models import Conversation, FeedbackEntry, InboundMessage, OutboxMessage, WebhookEnvelope
from loket.dialogue.tables import OutgoingDocument
from loket.inbox.sealing import ERASED_STATE
from loket.outbound.outbox import TERMINAL
from loket.security.envelope import CiphertextError, key_id_of
from loket.security.keycheck import keyring_from_settings
from loket.security.keys import PLATFORM
from loket.security.keystore import KeyStore, current_keystore
from loket.security.tables import CustomerKey

ERASED_PAYLOAD = {"erased": True}
SHRED_REASONS = frozenset({"erasure_request", "operator", "retention"})


@dataclass(frozen=True)
class ShredReport:
    tenant_id: str
    key_ids: tuple[int, ...]  # the data keys destroyed (empty: the customer had none)
    messages: int  # inbound messages whose content is now unreadable
    envelopes: int  # raw webhook bodies now unreadable or deleted
    outbox: int  # settled outgoing messages whose content was deleted
    feedback: int  # feedback comments deleted
    shredded_at: datetime

    @property
    def shredded(self) -> bool:
        return bool(self.key_ids)


async def shred_customer(
    db: Database,
    tenant_id: str,
    wa_id: str,
    *,
    keys: KeyStore | None = None,
    reason: str = "erasure_request",
    actor: str | None = None,
    clock: Clock = system_clock,
) -> ShredReport:
    """Destroy the customer's data key(s) in `tenant_id` and record it in the audit log.

    Idempotent: shredding a customer with no live key destroys nothing and reports zero keys.
    `keys` defaults to the process's key store (installed by the runtime), else one built from the settings.
    """
    if reason not in SHRED_REASONS:
        raise ValueError(f"reason must be one of {sorted(SHRED_REASONS)}")
    keys = keys or _process_keystore(db)
    now = clock.now()
    async with db.tenant_session(tenant_id) as session:
        # The customer's key in the tenant, and the one of messages that came before the number had a tenant.
        pairs = {
            (tenant_id, await keys.subject(session, tenant_id, wa_id)),
            (PLATFORM, await keys.subject(session, None, wa_id)),
        }
        found = (
            await session.execute(
                select(CustomerKey.id, CustomerKey.key_scope, CustomerKey.subject).where(
                    CustomerKey.key_scope.in_({scope for scope, _ in pairs}),
                    CustomerKey.subject.in_({subject for _, subject in pairs}),
                    CustomerKey.wrapped_dek.is_not(None),
                )
            )
        ).all()
        key_ids = tuple(sorted(int(row.id) for row in found if (row.key_scope, row.subject) in pairs))
        for key_id in key_ids:
            await session.execute(
                update(CustomerKey)
                .where(CustomerKey.id == key_id)
                .values(wrapped_dek=None, shredded_at=now, subject=f"erased:{key_id}")
            )
        mine = (InboundMessage.tenant_id == tenant_id) & (InboundMessage.wa_id == wa_id)
        messages = await _count(session, select(InboundMessage.id).where(mine, InboundMessage.sealed.is_not(None)))
        # Nothing is left to act on in what was still waiting.
        await session.execute(
            update(InboundMessage)
            .where(mine, InboundMessage.state.in_(("pending", "orphaned")))
            .values(state="done", processed_at=now, error="erased")
        )
        envelopes = await _erase_shared_bodies(session, mine, key_ids)
        # What was sent to them: the content goes (the audit log keeps its hash), the row stays. Queued rows
        # stay too: the answer to the erasure request itself may be among them.
        sent = await session.execute(
            update(OutboxMessage)
            .where(
                OutboxMessage.tenant_id == tenant_id,
                OutboxMessage.to_wa_id == wa_id,
                OutboxMessage.state.in_(sorted(TERMINAL)),
            )
            .values(payload=ERASED_PAYLOAD, fallback=None)
        )
        outbox = int(sent.rowcount or 0)  # type: ignore[attr-defined]
        # Feedback comments: by their number when they left it, else by the customer id the conversation bound.
        customer_ids = {
            cid
            for (cid,) in (
                await session.execute(
                    select(Conversation.customer_id).where(
                        Conversation.tenant_id == tenant_id, Conversation.wa_id == wa_id
                    )
                )
            ).all()
            if cid
        }
        feedback = await session.execute(
            update(FeedbackEntry)
            .where(
                FeedbackEntry.tenant_id == tenant_id,
                (FeedbackEntry.contact_wa_id == wa_id) | FeedbackEntry.customer_id.in_(customer_ids),
                FeedbackEntry.comment_enc.is_not(None),
            )
            .values(comment_enc=None, contact_wa_id=None)
        )
        # E-statements that never went out still hold their (SecretBox-sealed) content.
        await session.execute(
            update(OutgoingDocument)
            .where(
                OutgoingDocument.tenant_id == tenant_id,
                OutgoingDocument.to_wa_id == wa_id,
                OutgoingDocument.status != "queued",
            )
            .values(content_enc=None)
        )
        report = ShredReport(
            tenant_id=tenant_id,
            key_ids=key_ids,
            messages=messages,
            envelopes=envelopes,
            outbox=outbox,
            feedback=int(feedback.rowcount or 0),  # type: ignore[attr-defined]
            shredded_at=now,
        )
        audit_log = audit_current()
        if audit_log is not None:
            fields: dict[str, object] = {
                "customer": wa_id,
                "keys": len(key_ids),
                "messages": report.messages,
                "envelopes": report.envelopes,
                "outbox": report.outbox,
                "reason": reason,
            }
            if actor is not None:
                fields["by"] = actor
            await audit_log.record(EventType.KEY_SHREDDED, tenant=tenant_id, fields=fields, at=now, session=session)
    for key_id in key_ids:
        keys.forget(key_id)
    return report


def _process_keystore(db: Database) -> KeyStore:
    """The runtime's key store; a tool without a runtime builds one from the settings' master keys."""
    try:
        return current_keystore()
    except RuntimeError:
        return KeyStore(keyring_from_settings(load_settings()), dialect=db.dialect)


async def _count(session: AsyncSession, query: Select[Any]) -> int:
    return int((await session.execute(select(func.count()).select_from(query.subquery()))).scalar_one())


async def _erase_shared_bodies(session: AsyncSession, mine: ColumnElement[bool], key_ids: tuple[int, ...]) -> int:
    """Bodies of this customer's envelopes: unreadable when under their key, deleted when under another."""
    found = await session.execute(select(InboundMessage.envelope_sha256).where(mine).distinct())
    digests = {digest for (digest,) in found.all() if digest}
    if not digests:
        return 0
    rows = (
        await session.execute(
            select(WebhookEnvelope.id, WebhookEnvelope.body_sha256, WebhookEnvelope.sealed).where(
                WebhookEnvelope.body_sha256.in_(digests)
            )
        )
    ).all()
    erased = 0
    for row in rows:
        shared = True
        if row.sealed is not None:
            try:
                sealed_under = key_id_of(row.sealed, table="webhook_envelopes", column="sealed", row=row.body_sha256)
                shared = sealed_under not in key_ids
            except CiphertextError:
                shared = True
        if shared:
            await session.execute(
                update(WebhookEnvelope)
                .where(WebhookEnvelope.id == row.id)
                .values(body=b"", sealed=None, parse_state=ERASED_STATE)
            )
        erased += 1
    return erased
