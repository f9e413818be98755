"""Rows a customer leaves behind in Loket, written directly for the privacy tests."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from loket.audit import AuditLog, EventType
from loket.db.engine import Database
from loket.db.models import Conversation, FeedbackEntry, FlowSession, InboundMessage, OutboxMessage
from loket.dialogue.tables import Handoff
from loket.flows.store import COMMENT_COLUMN, FEEDBACK_TABLE
from loket.outbound.tables import Recipient
from loket.security.secretbox import SecretBox

BANK = "bank-nusantara"
INSURER = "asuransi-sejahtera"
BANK_PNID = "114208873300501"  # the demo bank's number (loket.core.demo.tenants)
SITI = "6281299990001"
BUDI = "6281299990002"
SECRET_WORDS = "alamat baru saya Jalan Melati 7"
COMMENT = "aplikasinya sering lambat sore hari"


async def leave_traces(
    db: Database,
    audit_log: AuditLog,
    box: SecretBox,
    *,
    tenant: str,
    wa_id: str,
    at: datetime,
    tag: str,
    again: bool = False,
) -> None:
    """A conversation, two messages in, one out, marketing consent, feedback, a Flow session, a handoff,
    and an audit entry about the person. `again`: the person already wrote before (one conversation)."""
    async with db.transaction() as session:
        if not again:
            session.add(
                Conversation(
                    tenant_id=tenant,
                    wa_id=wa_id,
                    customer_id=f"cust-{tag}",
                    language="id",
                    state={"x": 1},
                    last_inbound_at=at,
                    created_at=at,
                    updated_at=at,
                )
            )
        for index, text in enumerate((f"halo {tag}", f"{SECRET_WORDS} {tag}")):
            session.add(
                InboundMessage(
                    wamid=f"wamid.{tag}.{index}",
                    tenant_id=tenant,
                    phone_number_id=BANK_PNID,
                    wa_id=wa_id,
                    kind="text",
                    text=text,
                    payload={"text": {"body": text}},
                    profile_name=f"Nama {tag}",
                    meta_timestamp=1,
                    received_at=at + timedelta(seconds=index),
                    state="done",
                )
            )
        session.add(
            OutboxMessage(
                tenant_id=tenant,
                phone_number_id=BANK_PNID,
                to_wa_id=wa_id,
                kind="text",
                payload={"type": "text", "text": {"body": f"balasan untuk {tag}"}},
                purpose="service",
                priority=3,
                idempotency_key=f"out:{tag}",
                created_at=at,
                not_before=at,
                state="sent",
            )
        )
        if not again:
            session.add(
                Recipient(
                    tenant_id=tenant, wa_id=wa_id, customer_id=f"cust-{tag}", marketing_consent_at=at, updated_at=at
                )
            )
        reference = f"FB{tag.upper()}"[:16]
        session.add(
            FeedbackEntry(
                reference=reference,
                tenant_id=tenant,
                customer_id=f"cust-{tag}",
                contact_wa_id=wa_id,
                topic="app",
                rating=3,
                comment_enc=box.seal(COMMENT, table=FEEDBACK_TABLE, column=COMMENT_COLUMN, row=reference),
                contact_consent=True,
                language="id",
                created_at=at,
            )
        )
        session.add(
            FlowSession(
                token_sha256=f"{tag:0<64}"[:64],
                tenant_id=tenant,
                wa_id=wa_id,
                flow="feedback",
                language="id",
                created_at=at,
                expires_at=at + timedelta(hours=1),
            )
        )
        session.add(
            Handoff(
                tenant_id=tenant,
                phone_number_id=BANK_PNID,
                wa_id=wa_id,
                language="id",
                reason="asked",
                summary=f"reason: asked ({tag})",
                status="closed",
                created_at=at,
            )
        )
    await audit_log.record(
        EventType.MESSAGE_RECEIVED,
        tenant=tenant,
        fields={"wamid": f"wamid.{tag}.0", "phone_number_id": BANK_PNID, "customer": wa_id, "kind": "text"},
    )


async def count(db: Database, model: Any, *where: Any) -> int:
    async with db.sessions() as session:
        return int((await session.execute(select(func.count()).select_from(model).where(*where))).scalar_one())


COMPLAINT_TEXT = "saldo saya terpotong dua kali"
CONTACT_TEXT = "Siti, 0812-9999-0001"


async def add_complaint(db: Database, box: SecretBox, *, tenant: str, wa_id: str, at: datetime) -> str:
    """A complaint as loket.complaints stores it: free text sealed, bound to "<tenant>:<reference>"."""
    from loket.complaints.tables import Complaint

    reference = "PGD-2026-000001"
    bound = f"{tenant}:{reference}"
    async with db.transaction() as session:
        session.add(
            Complaint(
                tenant_id=tenant,
                reference=reference,
                kind="complaint",
                product="savings",
                cause="double_debit",
                channel="whatsapp",
                form="oral",
                status="received",
                language="id",
                zone="Asia/Jakarta",
                customer_id="cust-siti",
                wa_id=wa_id,
                phone_number_id=BANK_PNID,
                contact_enc=box.seal(CONTACT_TEXT, table="complaints", column="contact_enc", row=bound),
                summary_enc=box.seal(COMPLAINT_TEXT, table="complaints", column="summary_enc", row=bound),
                documents=[],
                clock={},
                received_at=at,
                updated_at=at,
            )
        )
    return reference
