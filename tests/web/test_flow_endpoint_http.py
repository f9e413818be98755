"""`POST /webhooks/whatsapp/flows` over real HTTP, playing the WhatsApp client with real crypto:
signature (432), key (421), token (427: unknown, replayed, expired), refused input, size, no key."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from sqlalchemy import select
from starlette.applications import Starlette
from starlette.routing import Route

from loket.channel.flows_crypto import decrypt_response, encrypt_request, generate_private_key, load_private_key
from loket.channel.flows_endpoint import FlowReply, FlowRequest
from loket.channel.signature import sign
from loket.clock import system_clock
from loket.config import Settings
from loket.conversation.turn import NewFlowSession
from loket.core.demo.institution import DemoCore
from loket.db.engine import Database
from loket.db.models import FeedbackEntry, FlowSession
from loket.flows.keys import ensure_demo_flows_key
from loket.flows.store import open_flow_session
from loket.runtime import Runtime
from loket.web.app import build_app
from loket.web.flows import FLOWS_PATH, NOT_CONFIGURED, FlowRoute
from stack import Stack, running_stack
from support import TEST_APP_SECRET, TEST_SCOPE

BANK = "bank-nusantara"
WA_ID = "6281200000001"

JsonObject = dict[str, Any]


@pytest.fixture
async def stack(settings: Settings) -> AsyncIterator[Stack]:
    async with running_stack(settings) as running:
        yield running


class Phone:
    """The WhatsApp client's side of the wire: encrypt for a public key, sign, post, decrypt."""

    def __init__(self, stack: Stack, public_key: rsa.RSAPublicKey | None = None) -> None:
        self.stack = stack
        if public_key is None:
            private = load_private_key(ensure_demo_flows_key(stack.settings.var_dir).read_bytes())
            public_key = private.public_key()
        self.public_key = public_key

    async def raw(self, body: bytes, headers: dict[str, str]) -> tuple[int, str]:
        async with self.stack.http.post(f"{self.stack.base}{FLOWS_PATH}", data=body, headers=headers) as resp:
            return resp.status, await resp.text()

    async def send(self, payload: JsonObject, *, secret: str = TEST_APP_SECRET) -> tuple[int, str, bytes, bytes]:
        request = encrypt_request(payload, self.public_key)
        body = json.dumps(request.body).encode()
        status, text = await self.raw(body, {"X-Hub-Signature-256": sign(body, secret.encode())})
        return status, text, request.aes_key, request.iv

    async def exchange(self, payload: JsonObject) -> tuple[int, JsonObject]:
        status, text, aes_key, iv = await self.send(payload)
        assert text, f"HTTP {status} without an encrypted body"
        return status, decrypt_response(text, aes_key, iv)


def init(token: str) -> JsonObject:
    return {"version": "3.0", "action": "INIT", "flow_token": token}


def submit(token: str, **data: Any) -> JsonObject:
    form = {"topic": "service", "rating": "4", "comment": "Pelayanan cepat dan ramah.", "contact_ok": False}
    return {"version": "3.0", "action": "data_exchange", "screen": "FEEDBACK", "flow_token": token, "data": form | data}


async def given_token(
    settings: Settings, token: str, *, language: str = "id", expires_in: timedelta = timedelta(hours=1)
) -> None:
    db = Database(settings.effective_database_url, default_scope=TEST_SCOPE)
    try:
        async with db.transaction() as session:
            now = system_clock.now()
            await open_flow_session(
                session,
                NewFlowSession(token=token, flow="feedback", expires_at=now + expires_in),
                tenant_id=BANK,
                wa_id=WA_ID,
                customer_id=None,
                language=language,
                now=now,
            )
    finally:
        await db.dispose()


async def all_rows(settings: Settings, model: type[Any]) -> list[Any]:
    db = Database(settings.effective_database_url, default_scope=TEST_SCOPE)
    try:
        async with db.sessions() as session:
            return list((await session.execute(select(model))).scalars().all())
    finally:
        await db.dispose()


async def test_ping_answers_active(stack: Stack) -> None:
    status, reply = await Phone(stack).exchange({"version": "3.0", "action": "ping"})
    assert status == 200
    assert reply == {"version": "3.0", "data": {"status": "active"}}


@pytest.mark.parametrize("secret", ["not-the-app-secret", None])
async def test_bad_or_missing_signature_is_432_without_body(stack: Stack, secret: str | None) -> None:
    phone = Phone(stack)
    request = encrypt_request(init("whatever"), phone.public_key)
    body = json.dumps(request.body).encode()
    headers = {"X-Hub-Signature-256": sign(body, secret.encode())} if secret else {}
    assert await phone.raw(body, headers) == (432, "")


async def test_request_for_another_public_key_is_421(stack: Stack) -> None:
    status, text, _, _ = await Phone(stack, generate_private_key().public_key()).send(init("whatever"))
    assert (status, text) == (421, "")


async def test_signed_garbage_is_400(stack: Stack) -> None:
    body = b'{"encrypted_flow_data": "%%%"}'
    assert (await Phone(stack).raw(body, {"X-Hub-Signature-256": sign(body, TEST_APP_SECRET.encode())}))[0] == 400


async def test_oversized_body_is_413(stack: Stack) -> None:
    status, _ = await Phone(stack).raw(b"x" * (1024 * 1024 + 1), {"X-Hub-Signature-256": "sha256=00"})
    assert status == 413


async def test_unknown_token_is_427_with_a_message_for_the_customer(stack: Stack) -> None:
    status, reply = await Phone(stack).exchange(init("never-issued"))
    assert status == 427
    assert "sudah tidak berlaku" in reply["error_msg"]


async def test_expired_token_is_427(stack: Stack) -> None:
    await given_token(stack.settings, "expired-token-0001", expires_in=timedelta(seconds=-1))
    status, _ = await Phone(stack).exchange(init("expired-token-0001"))
    assert status == 427


async def test_init_shows_the_form_and_back_shows_it_again(stack: Stack) -> None:
    await given_token(stack.settings, "token-init-0001")
    phone = Phone(stack)
    status, reply = await phone.exchange(init("token-init-0001"))
    assert status == 200
    assert reply["version"] == "3.0" and reply["screen"] == "FEEDBACK"
    assert [topic["id"] for topic in reply["data"]["topics"]] == ["service", "digital", "fees", "whatsapp", "other"]
    assert "error_message" not in reply["data"]
    status, back = await phone.exchange({**init("token-init-0001"), "action": "BACK", "screen": "FEEDBACK"})
    assert (status, back["screen"]) == (200, "FEEDBACK")


async def test_submission_closes_the_flow_once_and_a_replay_is_427(stack: Stack) -> None:
    await given_token(stack.settings, "token-replay-0001", language="en")
    phone = Phone(stack)
    status, reply = await phone.exchange(submit("token-replay-0001", contact_ok=True))
    assert status == 200 and reply["screen"] == "SUCCESS"
    params = reply["data"]["extension_message_response"]["params"]
    assert params["flow_token"] == "token-replay-0001"
    assert params["reference"].startswith("KS-") and len(params["reference"]) == 13
    assert set(params) == {"flow_token", "reference"}

    for replay in (submit("token-replay-0001"), init("token-replay-0001")):
        status, refused = await phone.exchange(replay)
        assert status == 427
        assert refused["error_msg"].startswith("This form is no longer valid or has already been sent.")
    assert len(await all_rows(stack.settings, FeedbackEntry)) == 1
    [session] = await all_rows(stack.settings, FlowSession)
    assert session.status == "completed" and session.result == {"reference": params["reference"], "contact": True}


async def test_two_racing_submissions_store_one_feedback(stack: Stack) -> None:
    await given_token(stack.settings, "token-race-0001")
    phone = Phone(stack)
    results = await asyncio.gather(*(phone.exchange(submit("token-race-0001")) for _ in range(4)))
    assert sorted(status for status, _ in results) == [200, 427, 427, 427]
    assert len(await all_rows(stack.settings, FeedbackEntry)) == 1


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"comment": "x" * 501}, "paling banyak 500 karakter"),
        ({"rating": "7"}, "dari 1 sampai 5"),
        ({"rating": True}, "dari 1 sampai 5"),
        ({"rating": None}, "dari 1 sampai 5"),
        ({"topic": "claims"}, "pilih topik"),  # an insurer's topic, not a bank's
        ({"topic": None}, "pilih topik"),
        ({"comment": 42}, "berupa teks"),
        ({"comment": "kartu saya 4111 1111 1111 1111 diblokir"}, "nomor kartu"),
    ],
)
async def test_invalid_input_comes_back_on_the_same_screen(stack: Stack, data: JsonObject, expected: str) -> None:
    await given_token(stack.settings, "token-invalid-0001")
    phone = Phone(stack)
    status, reply = await phone.exchange(submit("token-invalid-0001", **data))
    assert status == 200
    assert reply["screen"] == "FEEDBACK"
    assert expected in reply["data"]["error_message"]
    assert reply["data"]["topics"]
    assert await all_rows(stack.settings, FeedbackEntry) == []
    # The token is still good: the customer corrects the form and sends it.
    status, reply = await phone.exchange(submit("token-invalid-0001"))
    assert (status, reply["screen"]) == (200, "SUCCESS")


async def test_exactly_500_characters_are_accepted(stack: Stack) -> None:
    await given_token(stack.settings, "token-500-0001")
    status, reply = await Phone(stack).exchange(submit("token-500-0001", comment="é" * 500))
    assert (status, reply["screen"]) == (200, "SUCCESS")


async def test_a_screen_the_flow_does_not_have_is_500(stack: Stack) -> None:
    await given_token(stack.settings, "token-screen-0001")
    status, text, _, _ = await Phone(stack).send({**submit("token-screen-0001"), "screen": "ADMIN"})
    assert (status, text) == (500, "")


async def test_submitted_text_is_never_logged(stack: Stack, caplog: pytest.LogCaptureFixture) -> None:
    await given_token(stack.settings, "token-logs-0001")
    caplog.set_level(logging.DEBUG)
    secret_text = "nama ibu kandung saya Sumarni"
    await Phone(stack).exchange(submit("token-logs-0001", comment="x" * 501 + secret_text))
    await Phone(stack).exchange(submit("token-logs-0001", comment=secret_text))
    assert "feedback stored: KS-" in caplog.text
    assert secret_text not in caplog.text and "token-logs-0001" not in caplog.text


# ---------------------------------------------------------------- without a key


async def asgi_post(app: Starlette, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "method": "POST",
        "path": FLOWS_PATH,
        "raw_path": FLOWS_PATH.encode(),
        "query_string": b"",
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
    }
    await app(scope, receive, send)
    return sent[0]["status"], b"".join(m.get("body", b"") for m in sent[1:])


async def test_without_a_key_the_route_checks_the_signature_then_answers_421() -> None:
    async def never(request: FlowRequest) -> FlowReply:
        raise AssertionError("no request can be decrypted without a key")

    route = FlowRoute(None, app_secret=TEST_APP_SECRET, handler=never)
    app = Starlette(routes=[Route(FLOWS_PATH, route.receive, methods=["POST"])])
    body = b'{"encrypted_flow_data": "", "encrypted_aes_key": "", "initial_vector": ""}'
    assert (await asgi_post(app, body, {}))[0] == 432
    status, text = await asgi_post(app, body, {"X-Hub-Signature-256": sign(body, TEST_APP_SECRET.encode())})
    assert status == 421
    assert text.decode() == NOT_CONFIGURED


async def test_start_up_without_a_key_warns_and_does_not_refuse(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    runtime = Runtime.build(settings, core=DemoCore.generate(system_clock))
    try:
        with caplog.at_level(logging.WARNING, logger="loket.web.app"):
            build_app(runtime, process=False, dispatch=False)
    finally:
        await runtime.db.dispose()
    assert "WhatsApp Flows are off: set LOKET_FLOWS_PRIVATE_KEY_FILE" in caplog.text
