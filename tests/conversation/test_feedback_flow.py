"""Kritik & saran over the real path: menu row -> Flow message -> the sandbox phone opens the Flow and
talks to Loket's Flow endpoint (RSA-OAEP + AES-GCM, signed) -> SUCCESS -> `nfm_reply` -> thank-you."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import select

from loket.config import Settings
from loket.db.engine import Database
from loket.db.models import FeedbackEntry, FlowSession, InboundMessage
from loket.flows.store import open_comment, token_digest
from loket.journeys.feedback_flow import TOPICS_BY_KIND
from loket.security.secretbox import SecretBox
from stack import Stack, running_stack
from support import TEST_SCOPE

BANK = "bank-nusantara"
INSURER = "asuransi-sejahtera"
COMMENT = "Antrean di kantor cabang Sudirman terlalu lama, mohon tambah teller saat jam makan siang."


@pytest.fixture
async def stack(settings: Settings) -> AsyncIterator[Stack]:
    async with running_stack(settings) as running:
        yield running


async def receive_flow_message(stack: Stack, customer: dict[str, Any]) -> dict[str, Any]:
    await stack.say(customer, type="text", text="menu")
    await stack.replies(customer, 1)
    await stack.say(customer, type="list_reply", row_id="menu:feedback")
    out = await stack.replies(customer, 2)
    assert len(out) == 2
    return out[1]


async def rows(settings: Settings, model: type[Any]) -> list[Any]:
    db = Database(settings.effective_database_url, default_scope=TEST_SCOPE)
    try:
        async with db.sessions() as session:
            return list((await session.execute(select(model))).scalars().all())
    finally:
        await db.dispose()


async def test_feedback_flow_end_to_end_with_real_crypto(stack: Stack) -> None:
    customer = stack.customer(BANK, language="id")
    message = await receive_flow_message(stack, customer)
    interactive = message["payload"]["interactive"]
    assert interactive["type"] == "flow"
    params = interactive["action"]["parameters"]
    assert params["flow_action"] == "data_exchange"
    assert params["flow_name"] == "loket_feedback_id"
    assert params["flow_cta"] == "Isi formulir"
    assert "flow_action_payload" not in params
    token = params["flow_token"]
    assert len(token) >= 40

    # INIT: the sandbox phone asks Loket's endpoint for the first screen (the data exchange).
    status, screen = await stack.sandbox("flows/open", {"message_id": message["id"]})
    assert status == 200, screen
    assert screen["screen"] == "FEEDBACK" and screen["title"] == "Kritik & Saran"
    assert [topic["id"] for topic in screen["data"]["topics"]] == list(TOPICS_BY_KIND["bank"])
    assert not screen["done"]

    submit: dict[str, Any] = {"session": screen["session"], "action": "data_exchange", "screen": "FEEDBACK"}
    # Refused on the same screen: too long.
    payload = {"topic": "service", "rating": "2", "comment": "x" * 501, "contact_ok": True}
    status, refused = await stack.sandbox("flows/submit", {**submit, "payload": payload})
    assert status == 200
    assert refused["screen"] == "FEEDBACK" and not refused["done"]
    assert "paling banyak 500 karakter" in refused["error"] and "501" in refused["error"]
    assert refused["data"]["topics"]  # the form can be shown again with its options

    status, done = await stack.sandbox("flows/submit", {**submit, "payload": {**payload, "comment": COMMENT}})
    assert status == 200 and done["done"], done

    out = await stack.replies(customer, 3)
    thanks = out[2]["payload"]["text"]["body"]
    assert "Terima kasih, kritik dan saran Anda sudah kami terima" in thanks
    entries = await rows(stack.settings, FeedbackEntry)
    assert len(entries) == 1
    entry = entries[0]
    assert f"*{entry.reference}*" in thanks
    assert "petugas Bank Nusantara dapat menghubungi Anda" in thanks

    # Stored minimal and sealed: the comment is not in the row in clear, the number only with consent.
    assert (entry.tenant_id, entry.customer_id, entry.topic, entry.rating) == (
        BANK,
        customer["customer_id"],
        "service",
        2,
    )
    assert entry.contact_consent and entry.contact_wa_id == customer["wa_id"]
    assert entry.comment_enc is not None and COMMENT.encode() not in entry.comment_enc
    assert open_comment(SecretBox(stack.settings.master_key_bytes), entry) == COMMENT
    sessions = await rows(stack.settings, FlowSession)
    assert [(s.token_sha256, s.status) for s in sessions] == [(token_digest(token), "completed")]
    assert sessions[0].result == {"reference": entry.reference, "contact": True}
    # The customer's nfm_reply carries the token and the reference, never the comment.
    replies = [m for m in await rows(stack.settings, InboundMessage) if m.kind == "flow_reply"]
    assert len(replies) == 1 and COMMENT not in str(replies[0].payload)

    # The token is single-use: opening the same Flow message again is refused (427) with the reason.
    status, again = await stack.sandbox("flows/open", {"message_id": message["id"]})
    assert status == 400
    assert "sudah tidak berlaku atau sudah pernah dikirim" in again["error"]


async def test_english_insurer_customer_gets_english_flow_and_insurer_topics(stack: Stack) -> None:
    customer = stack.customer(INSURER, language="en")
    message = await receive_flow_message(stack, customer)
    params = message["payload"]["interactive"]["action"]["parameters"]
    assert params["flow_name"] == "loket_feedback_en" and params["flow_cta"] == "Open the form"
    status, screen = await stack.sandbox("flows/open", {"message_id": message["id"]})
    assert status == 200, screen
    assert screen["title"] == "Feedback"
    assert screen["data"]["topics"][0]["title"] == "Claims"

    submit = {"session": screen["session"], "action": "data_exchange", "screen": "FEEDBACK"}
    payload = {"topic": "claims", "rating": "5", "comment": "", "contact_ok": False}
    status, done = await stack.sandbox("flows/submit", {**submit, "payload": payload})
    assert done["done"], done
    out = await stack.replies(customer, 3)
    thanks = out[2]["payload"]["text"]["body"]
    assert thanks.startswith("Thank you, we have received your feedback.")
    assert "we will not contact you" in thanks
    [entry] = await rows(stack.settings, FeedbackEntry)
    assert entry.comment_enc is None and entry.contact_wa_id is None and not entry.contact_consent


async def test_typing_kritik_offers_the_form(stack: Stack) -> None:
    customer = stack.customer(BANK, language="id")
    await stack.say(customer, type="text", text="mau kasih kritik")
    out = await stack.replies(customer, 1)
    assert out[0]["payload"]["interactive"]["type"] == "flow"


async def test_nfm_reply_with_a_foreign_token_is_not_thanked(stack: Stack) -> None:
    """A completed Flow of one customer, replayed from another customer's phone, gets no thank-you."""
    owner = stack.customer(BANK, language="id")
    message = await receive_flow_message(stack, owner)
    _, screen = await stack.sandbox("flows/open", {"message_id": message["id"]})
    submit = {"session": screen["session"], "action": "data_exchange", "screen": "FEEDBACK"}
    payload = {"topic": "digital", "rating": "4", "comment": "", "contact_ok": False}
    _, done = await stack.sandbox("flows/submit", {**submit, "payload": payload})
    assert done["done"]
    await stack.replies(owner, 3)

    token = message["payload"]["interactive"]["action"]["parameters"]["flow_token"]
    other = next(
        c
        for c in stack.summary["customers"]
        if c["tenant_id"] == BANK and c["language"] == "id" and c["wa_id"] != owner["wa_id"]
    )
    other_message = await receive_flow_message(stack, other)
    await stack.say(
        other,
        type="flow_completion",
        message_id=other_message["id"],
        response={"flow_token": token, "reference": "KS-FORGED"},
    )
    out = await stack.replies(other, 3)
    assert "Formulir itu sudah tidak berlaku" in out[2]["payload"]["text"]["body"]
