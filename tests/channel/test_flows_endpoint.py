from __future__ import annotations

import base64
import json
import logging
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from loket.channel.flows_crypto import decrypt_response, encrypt_request, generate_key_pair
from loket.channel.flows_endpoint import (
    FlowAction,
    FlowEndpoint,
    FlowReply,
    FlowRequest,
    FlowTokenInvalid,
    close_flow,
)
from loket.channel.signature import sign

SECRET = b"meta-app-secret"
TOKEN = "flow-token-7f3a"
LOGGER = "loket.channel.flows_endpoint"


@pytest.fixture(scope="module")
def private_key() -> rsa.RSAPrivateKey:
    return generate_key_pair()[0]


class Handler:
    def __init__(self, reply: FlowReply | BaseException | object = None) -> None:
        self.reply = reply if reply is not None else FlowReply(screen="NEXT", data={"saldo": 1000})
        self.requests: list[FlowRequest] = []

    async def __call__(self, request: FlowRequest) -> FlowReply:
        self.requests.append(request)
        if isinstance(self.reply, BaseException):
            raise self.reply
        return self.reply  # type: ignore[return-value]


class Exchange:
    """Plays the WhatsApp client: encrypts, signs, posts, and decrypts the answer."""

    def __init__(self, endpoint: FlowEndpoint, public_key: rsa.RSAPublicKey) -> None:
        self.endpoint = endpoint
        self.public_key = public_key

    async def post(self, payload: dict[str, Any]) -> tuple[int, str, bytes, bytes]:
        body, aes_key, iv = encrypt_request(payload, self.public_key)
        raw = json.dumps(body).encode()
        status, text = await self.endpoint.handle(raw, sign(raw, SECRET))
        return status, text, aes_key, iv

    async def post_and_decrypt(self, payload: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        status, text, aes_key, iv = await self.post(payload)
        return status, decrypt_response(text, aes_key, iv)


def make(private_key: rsa.RSAPrivateKey, handler: Any = None) -> tuple[Exchange, Handler]:
    handler = handler if handler is not None else Handler()
    endpoint = FlowEndpoint(private_key, SECRET, handler)
    return Exchange(endpoint, private_key.public_key()), handler


def request(action: str, **extra: Any) -> dict[str, Any]:
    return {"version": "3.0", "action": action, "flow_token": TOKEN, **extra}


# ---------------------------------------------------------------- 432 signature


@pytest.mark.parametrize(
    "header",
    [None, "", "sha256=" + "0" * 64, sign(b"other body", SECRET), "not-a-signature"],
)
async def test_bad_or_missing_signature_is_432_with_empty_body(
    private_key: rsa.RSAPrivateKey, header: str | None
) -> None:
    exchange, handler = make(private_key)
    raw = json.dumps(encrypt_request(request("ping"), private_key.public_key()).body).encode()
    assert await exchange.endpoint.handle(raw, header) == (432, "")
    assert handler.requests == []


async def test_signature_with_another_secret_is_432(private_key: rsa.RSAPrivateKey) -> None:
    exchange, _ = make(private_key)
    raw = json.dumps(encrypt_request(request("ping"), private_key.public_key()).body).encode()
    assert await exchange.endpoint.handle(raw, sign(raw, b"other-app-secret")) == (432, "")


async def test_signature_is_checked_before_parsing(private_key: rsa.RSAPrivateKey) -> None:
    exchange, _ = make(private_key)
    assert await exchange.endpoint.handle(b"{not json", None) == (432, "")


def test_endpoint_refuses_an_empty_secret(private_key: rsa.RSAPrivateKey) -> None:
    with pytest.raises(ValueError, match="app secret"):
        FlowEndpoint(private_key, b"", Handler())


# ---------------------------------------------------------------- 400 / 421


@pytest.mark.parametrize(
    "raw",
    [
        b"{not json",
        b"\xff\xfe",
        b"[]",
        b"{}",
        json.dumps({"encrypted_flow_data": "!!", "encrypted_aes_key": "!!", "initial_vector": "!!"}).encode(),
    ],
)
async def test_malformed_body_is_400(private_key: rsa.RSAPrivateKey, raw: bytes) -> None:
    exchange, handler = make(private_key)
    assert await exchange.endpoint.handle(raw, sign(raw, SECRET)) == (400, "")
    assert handler.requests == []


async def test_tampered_ciphertext_is_400(private_key: rsa.RSAPrivateKey) -> None:
    exchange, _ = make(private_key)
    body = encrypt_request(request("INIT"), private_key.public_key()).body
    sealed = bytearray(base64.b64decode(body["encrypted_flow_data"]))
    sealed[0] ^= 1
    body["encrypted_flow_data"] = base64.b64encode(bytes(sealed)).decode()
    raw = json.dumps(body).encode()
    assert await exchange.endpoint.handle(raw, sign(raw, SECRET)) == (400, "")


async def test_request_for_another_public_key_is_421(private_key: rsa.RSAPrivateKey) -> None:
    exchange, handler = make(private_key)
    exchange.public_key = generate_key_pair()[1]  # the client still holds a rotated-out key
    status, text, _, _ = await exchange.post(request("ping"))
    assert (status, text) == (421, "")
    assert handler.requests == []


@pytest.mark.parametrize(
    "payload",
    [
        request("navigate"),
        request("launch"),
        {"version": "3.0", "action": "INIT"},
        {"action": "data_exchange", "flow_token": TOKEN, "screen": "A"},
        request("data_exchange", screen="A", data=["not", "an", "object"]),
        request("data_exchange", screen=7),
        {"version": "3.0", "action": "INIT", "flow_token": 42},
    ],
)
async def test_invalid_decrypted_request_is_400(private_key: rsa.RSAPrivateKey, payload: dict[str, Any]) -> None:
    exchange, handler = make(private_key)
    status, text, _, _ = await exchange.post(payload)
    assert (status, text) == (400, "")
    assert handler.requests == []


# ---------------------------------------------------------------- ping and error notifications


async def test_ping_reports_active_with_version(private_key: rsa.RSAPrivateKey) -> None:
    exchange, handler = make(private_key)
    assert await exchange.post_and_decrypt({"version": "3.0", "action": "ping"}) == (
        200,
        {"version": "3.0", "data": {"status": "active"}},
    )
    assert handler.requests == []


async def test_ping_without_version(private_key: rsa.RSAPrivateKey) -> None:
    exchange, _ = make(private_key)
    assert await exchange.post_and_decrypt({"action": "ping"}) == (200, {"data": {"status": "active"}})


async def test_ping_reply_uses_the_inverted_iv(private_key: rsa.RSAPrivateKey) -> None:
    exchange, _ = make(private_key)
    status, text, aes_key, iv = await exchange.post({"action": "ping"})
    inverted = bytes(b ^ 0xFF for b in iv)
    assert status == 200
    assert json.loads(AESGCM(aes_key).decrypt(inverted, base64.b64decode(text), None)) == {"data": {"status": "active"}}


@pytest.mark.parametrize(
    "payload",
    [
        request("data_exchange", screen="ACCOUNT", data={"error": "INVALID_SCREEN", "error_message": "Siti 0812"}),
        request("INIT", data={"error": "TIMEOUT", "error_message": "took too long"}),
        request("error_notification", data={"error_key": "x", "error": "ENDPOINT_ERROR"}),
    ],
)
async def test_error_notification_is_acknowledged(
    private_key: rsa.RSAPrivateKey, payload: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    exchange, handler = make(private_key)
    with caplog.at_level(logging.INFO, logger=LOGGER):
        assert await exchange.post_and_decrypt(payload) == (200, {"version": "3.0", "data": {"acknowledged": True}})
    assert handler.requests == []
    assert payload["data"]["error"] in caplog.text
    assert "Siti" not in caplog.text
    assert TOKEN not in caplog.text


# ---------------------------------------------------------------- handler


async def test_init_reaches_the_handler(private_key: rsa.RSAPrivateKey) -> None:
    exchange, handler = make(private_key, Handler(FlowReply(screen="WELCOME", data={"nama": "Budi"})))
    status, reply = await exchange.post_and_decrypt(request("INIT"))
    assert (status, reply) == (200, {"version": "3.0", "screen": "WELCOME", "data": {"nama": "Budi"}})
    assert handler.requests == [
        FlowRequest(version="3.0", action=FlowAction.INIT, flow_token=TOKEN, screen=None, data={})
    ]


@pytest.mark.parametrize("action", [FlowAction.DATA_EXCHANGE, FlowAction.BACK])
async def test_screen_actions_reach_the_handler(private_key: rsa.RSAPrivateKey, action: FlowAction) -> None:
    exchange, handler = make(private_key)
    payload = request(str(action), screen="AMOUNT", data={"jumlah": 250000}, flow_token_signature="sig")
    status, reply = await exchange.post_and_decrypt(payload)
    assert (status, reply) == (200, {"version": "3.0", "screen": "NEXT", "data": {"saldo": 1000}})
    [seen] = handler.requests
    assert seen.action is action
    assert (seen.screen, seen.data, seen.flow_token, seen.flow_token_signature) == (
        "AMOUNT",
        {"jumlah": 250000},
        TOKEN,
        "sig",
    )
    assert TOKEN not in repr(seen)
    assert "250000" not in repr(seen)


async def test_sync_handler_is_accepted(private_key: rsa.RSAPrivateKey) -> None:
    def handler(request: FlowRequest) -> FlowReply:
        return FlowReply(screen="DONE")

    exchange, _ = make(private_key, handler)
    assert await exchange.post_and_decrypt(request("INIT")) == (
        200,
        {"version": "3.0", "screen": "DONE", "data": {}},
    )


async def test_close_flow_reply(private_key: rsa.RSAPrivateKey) -> None:
    exchange, _ = make(private_key, Handler(close_flow(TOKEN, {"case_id": "K-1", "flow_token": "spoof"})))
    status, reply = await exchange.post_and_decrypt(request("data_exchange", screen="CONFIRM"))
    assert status == 200
    assert reply == {
        "version": "3.0",
        "screen": "SUCCESS",
        "data": {"extension_message_response": {"params": {"case_id": "K-1", "flow_token": TOKEN}}},
    }


def test_close_flow_without_params() -> None:
    assert close_flow("t") == FlowReply(
        screen="SUCCESS", data={"extension_message_response": {"params": {"flow_token": "t"}}}
    )


async def test_invalid_flow_token_is_427_with_encrypted_message(private_key: rsa.RSAPrivateKey) -> None:
    exchange, _ = make(private_key, Handler(FlowTokenInvalid("Sesi sudah berakhir. Silakan mulai lagi.")))
    assert await exchange.post_and_decrypt(request("data_exchange", screen="A")) == (
        427,
        {"error_msg": "Sesi sudah berakhir. Silakan mulai lagi."},
    )


async def test_handler_failure_is_500_and_logs_no_payload(
    private_key: rsa.RSAPrivateKey, caplog: pytest.LogCaptureFixture
) -> None:
    exchange, _ = make(private_key, Handler(RuntimeError("account 1234567890 of Siti not found")))
    with caplog.at_level(logging.DEBUG, logger=LOGGER):
        status, text, _, _ = await exchange.post(
            request("data_exchange", screen="ACCOUNT", data={"rekening": "1234567890"})
        )
    assert (status, text) == (500, "")
    assert "RuntimeError" in caplog.text
    for secret in ("1234567890", "Siti", TOKEN):
        assert secret not in caplog.text
    assert all(record.exc_info is None for record in caplog.records)


async def test_handler_returning_the_wrong_type_is_500(private_key: rsa.RSAPrivateKey) -> None:
    exchange, _ = make(private_key, Handler({"screen": "NEXT"}))
    status, text, _, _ = await exchange.post(request("INIT"))
    assert (status, text) == (500, "")


async def test_unserialisable_reply_is_500(private_key: rsa.RSAPrivateKey) -> None:
    exchange, _ = make(private_key, Handler(FlowReply(screen="NEXT", data={"when": object()})))
    status, text, _, _ = await exchange.post(request("INIT"))
    assert (status, text) == (500, "")


async def test_rejections_log_no_body(private_key: rsa.RSAPrivateKey, caplog: pytest.LogCaptureFixture) -> None:
    exchange, _ = make(private_key)
    raw = b'{"nama": "Siti Rahayu"}'
    with caplog.at_level(logging.DEBUG, logger=LOGGER):
        await exchange.endpoint.handle(raw, None)
        await exchange.endpoint.handle(raw, sign(raw, SECRET))
    assert len(caplog.records) == 2
    assert "Siti" not in caplog.text
