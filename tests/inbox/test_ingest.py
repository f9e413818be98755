"""Webhook ingest: durable rows keyed by Meta's ids, whatever the envelope looks like."""

from __future__ import annotations

import json

import orjson
import pytest
from sqlalchemy import func, select

from loket.db.engine import Database
from loket.db.models import ChannelEvent, InboundMessage, MessageStatus, WebhookEnvelope
from loket.inbox.ingest import WebhookIngest
from loket.inbox.sealing import open_envelope_body, open_message
from loket.security.keys import MasterKeyring
from loket.security.keystore import KeyStore
from loket.security.secretbox import SecretBox
from loket.tenancy.admin import PhoneNumberSpec, TenantSpec, upsert_phone_number, upsert_tenant
from loket.tenancy.directory import PhoneDirectory
from support import BANK_PNID, fixture, status_envelope, text_envelope

KEY = bytes(range(32))


@pytest.fixture
def keys(db: Database) -> KeyStore:
    return KeyStore(MasterKeyring(KEY), dialect=db.dialect)


async def opened_message(db: Database, keys: KeyStore) -> InboundMessage:
    """The one stored message, decrypted as the processor sees it."""
    async with db.sessions() as session:
        row = (await session.execute(select(InboundMessage))).scalar_one()
        assert row.sealed is not None and row.text is None and row.profile_name is None
        await open_message(keys, session, row)
    return row


async def opened_body(db: Database, keys: KeyStore) -> bytes:
    async with db.sessions() as session:
        envelope = (await session.execute(select(WebhookEnvelope))).scalar_one()
        assert envelope.body == b"" and envelope.sealed is not None
        body = await open_envelope_body(keys, session, envelope)
    assert body is not None
    return body


@pytest.fixture
async def ingest(db: Database, keys: KeyStore) -> WebhookIngest:
    box = SecretBox(KEY)
    await upsert_tenant(
        db, TenantSpec("bank-nusantara", "bank", "PT Bank Nusantara Tbk", "Bank Nusantara", "KEP-123/OJK/2026")
    )
    await upsert_phone_number(
        db, box, PhoneNumberSpec(BANK_PNID, "bank-nusantara", "+62 811 1500 123", "200000000000001", "token-1")
    )
    return WebhookIngest(db, PhoneDirectory(db, box), keys=keys)


async def count(db: Database, model: type) -> int:
    async with db.sessions() as session:
        return int((await session.execute(select(func.count()).select_from(model))).scalar_one())


async def test_text_message_becomes_one_pending_row(db: Database, ingest: WebhookIngest, keys: KeyStore) -> None:
    await ingest.ingest(orjson.dumps(text_envelope("wamid.A1", "halo")))
    row = await opened_message(db, keys)
    assert (row.wamid, row.tenant_id, row.wa_id, row.kind, row.text, row.state) == (
        "wamid.A1",
        "bank-nusantara",
        "6281234567890",
        "text",
        "halo",
        "pending",
    )
    assert row.profile_name == "Siti Rahayu"


async def test_same_envelope_three_times_is_stored_once(db: Database, ingest: WebhookIngest) -> None:
    body = orjson.dumps(text_envelope("wamid.DUP", "saldo"))
    for _ in range(3):
        await ingest.ingest(body)
    assert await count(db, InboundMessage) == 1
    assert await count(db, WebhookEnvelope) == 1


async def test_same_message_in_a_different_envelope_is_not_duplicated(db: Database, ingest: WebhookIngest) -> None:
    await ingest.ingest(orjson.dumps(text_envelope("wamid.X", "saldo", timestamp=1)))
    await ingest.ingest(orjson.dumps(text_envelope("wamid.X", "saldo", timestamp=2)))
    assert await count(db, InboundMessage) == 1
    assert await count(db, WebhookEnvelope) == 2


async def test_statuses_are_unique_by_message_and_status(db: Database, ingest: WebhookIngest) -> None:
    statuses = [("wamid.S", "read"), ("wamid.S", "delivered"), ("wamid.S", "sent"), ("wamid.S", "read")]
    await ingest.ingest(orjson.dumps(status_envelope(statuses)))
    await ingest.ingest(orjson.dumps(status_envelope([("wamid.S", "failed"), ("wamid.S", "delivered")])))
    async with db.sessions() as session:
        rows = (await session.execute(select(MessageStatus.status).order_by(MessageStatus.status))).scalars().all()
    assert rows == ["delivered", "failed", "read", "sent"]


async def test_unknown_phone_number_is_stored_and_counted(db: Database, ingest: WebhookIngest) -> None:
    await ingest.ingest(orjson.dumps(text_envelope("wamid.U", "halo", pnid="555000000000999")))
    async with db.sessions() as session:
        row = (await session.execute(select(InboundMessage))).scalar_one()
    assert row.tenant_id is None
    assert row.state == "orphaned"


async def test_malformed_json_is_kept_for_inspection(db: Database, ingest: WebhookIngest) -> None:
    await ingest.ingest(b'{"object": "whatsapp_business_account", "entry": [')
    async with db.sessions() as session:
        envelope = (await session.execute(select(WebhookEnvelope))).scalar_one()
    assert envelope.parse_state == "malformed"


async def test_unknown_shape_is_kept_as_an_event(db: Database, ingest: WebhookIngest) -> None:
    await ingest.ingest(orjson.dumps(fixture("account_update")))
    await ingest.ingest(json.dumps({"hello": "world"}).encode())
    async with db.sessions() as session:
        states = sorted((await session.execute(select(WebhookEnvelope.parse_state))).scalars())
    assert "unrecognised" in states
    assert await count(db, ChannelEvent) >= 1


@pytest.mark.parametrize(
    "name",
    [
        "text",
        "image_caption",
        "video",
        "audio_voice",
        "document",
        "sticker",
        "location",
        "contacts",
        "reaction_add",
        "button_reply",
        "list_reply",
        "nfm_reply",
        "nfm_reply_without_flow_token",
        "template_button",
        "order",
        "system_user_changed_number",
        "unsupported",
        "contacts_without_user_id",
        "batched",
    ],
)
async def test_every_inbound_kind_is_stored(db: Database, ingest: WebhookIngest, name: str) -> None:
    await ingest.ingest(orjson.dumps(fixture(name)))
    assert await count(db, InboundMessage) >= 1


@pytest.mark.parametrize("name", ["template_status_update", "user_preferences_stop", "out_of_band_errors"])
async def test_non_message_events_are_stored_once(db: Database, ingest: WebhookIngest, name: str) -> None:
    body = orjson.dumps(fixture(name))
    await ingest.ingest(body)
    await ingest.ingest(body)
    assert await count(db, ChannelEvent) == 1


async def test_concurrent_envelopes_share_commits(db: Database, ingest: WebhookIngest) -> None:
    import asyncio

    ingest.start()
    try:
        await asyncio.gather(*(ingest.ingest(orjson.dumps(text_envelope(f"wamid.C{i}", "halo"))) for i in range(50)))
    finally:
        await ingest.stop()
    assert await count(db, InboundMessage) == 50


@pytest.mark.parametrize(
    ("text", "secret", "kind"),
    [
        ("kode OTP saya 839201 tolong dicek", "839201", "otp"),
        ("ini kartu saya 4111 1111 1111 1111 ya", "4111 1111 1111 1111", "card_number"),
    ],
)
async def test_secrets_are_redacted_before_anything_is_stored(
    db: Database, ingest: WebhookIngest, keys: KeyStore, text: str, secret: str, kind: str
) -> None:
    await ingest.ingest(orjson.dumps(text_envelope("wamid.SECRET", text)))
    row = await opened_message(db, keys)
    body = await opened_body(db, keys)
    async with db.sessions() as session:
        events = (await session.execute(select(ChannelEvent))).scalars().all()
    digits = secret.replace(" ", "")
    assert row.text is not None and secret not in row.text and digits not in row.text
    assert secret not in orjson.dumps(row.payload).decode()
    assert row.payload["loket_redactions"] == [kind]
    assert secret.encode() not in body and digits.encode() not in body
    assert b"loket_redactions" not in body
    [signal] = [e for e in events if e.kind == "secret_shared"]
    assert signal.payload == {"wamid": "wamid.SECRET", "kinds": [kind]}
    assert digits not in orjson.dumps(signal.payload).decode()


async def test_caption_secrets_are_redacted(db: Database, ingest: WebhookIngest, keys: KeyStore) -> None:
    envelope = fixture("image_caption")
    message = envelope["entry"][0]["changes"][0]["value"]["messages"][0]
    message["image"]["caption"] = "pin atm saya 4321 jangan bilang2"
    await ingest.ingest(orjson.dumps(envelope))
    row = await opened_message(db, keys)
    assert "4321" not in (row.text or "")
    assert "4321" not in orjson.dumps(row.payload).decode()
    assert row.payload["loket_redactions"] == ["pin"]


async def test_ordinary_numbers_are_not_redacted(db: Database, ingest: WebhookIngest, keys: KeyStore) -> None:
    await ingest.ingest(orjson.dumps(text_envelope("wamid.AMOUNT", "transfer 150000 ke rekening istri tgl 25")))
    row = await opened_message(db, keys)
    assert row.text == "transfer 150000 ke rekening istri tgl 25"
    assert "loket_redactions" not in row.payload
