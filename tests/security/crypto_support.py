"""Helpers of the encryption-at-rest tests: a tenant with a number, an ingest, and readers."""

from __future__ import annotations

import orjson
from sqlalchemy import select

from loket.db.engine import Database
from loket.db.models import InboundMessage, WebhookEnvelope
from loket.inbox.ingest import WebhookIngest
from loket.inbox.sealing import open_envelope_body, open_message
from loket.security.keys import MasterKeyring
from loket.security.keystore import KeyStore
from loket.security.secretbox import SecretBox
from loket.tenancy.admin import PhoneNumberSpec, TenantSpec, upsert_phone_number, upsert_tenant
from loket.tenancy.directory import PhoneDirectory
from support import BANK_PNID, INSURER_PNID, text_envelope

MASTER = bytes(range(32))
NEW_MASTER = bytes(range(100, 132))
BANK = "bank-nusantara"
INSURER = "asuransi-sentosa"
SITI = "6281234567890"
BUDI = "6281298765432"


async def seed(db: Database) -> None:
    box = SecretBox(MASTER)
    await upsert_tenant(db, TenantSpec(BANK, "bank", "PT Bank Nusantara Tbk", "Bank Nusantara", "KEP-1/OJK/2026"))
    await upsert_tenant(db, TenantSpec(INSURER, "insurer", "PT Asuransi Sentosa", "Sentosa", "KEP-2/OJK/2026"))
    await upsert_phone_number(db, box, PhoneNumberSpec(BANK_PNID, BANK, "+62 811 1500 123", "2001", "token-1"))
    await upsert_phone_number(db, box, PhoneNumberSpec(INSURER_PNID, INSURER, "+62 811 1500 456", "2002", "token-2"))


def key_store(db: Database, master: bytes = MASTER, *previous: bytes) -> KeyStore:
    return KeyStore(MasterKeyring(master, previous), dialect=db.dialect)


def ingest_for(db: Database, keys: KeyStore) -> WebhookIngest:
    return WebhookIngest(db, PhoneDirectory(db, SecretBox(MASTER)), keys=keys)


async def send_text(ingest: WebhookIngest, wamid: str, text: str, *, wa_id: str = SITI, pnid: str = BANK_PNID) -> None:
    await ingest.ingest(orjson.dumps(text_envelope(wamid, text, wa_id=wa_id, pnid=pnid)))


async def read_text(db: Database, keys: KeyStore, wamid: str) -> str | None:
    """The stored text of one message as a reader sees it (the erased marker once shredded)."""
    async with db.sessions() as session:
        row = (await session.execute(select(InboundMessage).where(InboundMessage.wamid == wamid))).scalar_one()
        await open_message(keys, session, row)
        return row.text


async def read_body(db: Database, keys: KeyStore, wamid: str) -> bytes | None:
    async with db.sessions() as session:
        digest = (
            await session.execute(select(InboundMessage.envelope_sha256).where(InboundMessage.wamid == wamid))
        ).scalar_one()
        envelope = (
            await session.execute(select(WebhookEnvelope).where(WebhookEnvelope.body_sha256 == digest))
        ).scalar_one()
        return await open_envelope_body(keys, session, envelope)
