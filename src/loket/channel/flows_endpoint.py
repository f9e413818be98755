"""Loket's WhatsApp Flow data endpoint, free of any web framework.

`FlowEndpoint.handle` takes the raw POST body and the `X-Hub-Signature-256` header and returns the HTTP
status and the raw (text/plain) body to send; the web adapter only copies them. Status codes follow
whatsapp-cloud-api.md section 5.1: 432 bad signature, 421 the RSA step failed (the client refetches our
public key), 427 flow token no longer valid, 400 malformed request, 500 anything else.
"""

from __future__ import annotations

import enum
import inspect
import json
import logging
import re
import traceback
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from cryptography.hazmat.primitives.asymmetric import rsa

from loket.channel.flows_crypto import (
    FlowDecryptionError,
    FlowIntegrityError,
    FlowMalformedError,
    JsonObject,
    decrypt_request,
    encrypt_response,
)
from loket.channel.signature import SignatureCheck, check_signature

logger = logging.getLogger(__name__)

STATUS_OK = 200
STATUS_BAD_REQUEST = 400
STATUS_KEY_MISMATCH = 421
STATUS_FLOW_TOKEN_INVALID = 427
STATUS_SIGNATURE_INVALID = 432
STATUS_SERVER_ERROR = 500

SUCCESS_SCREEN = "SUCCESS"
_PING = "ping"
_ERROR_NOTIFICATION = "error_notification"
_LOGGABLE_ERROR_KEY = re.compile(r"[A-Za-z0-9_.\-]{1,64}")


class FlowAction(enum.StrEnum):
    INIT = "INIT"
    BACK = "BACK"
    DATA_EXCHANGE = "data_exchange"


_ACTIONS = frozenset(action.value for action in FlowAction)


@dataclass(frozen=True, slots=True)
class FlowRequest:
    version: str
    action: FlowAction
    flow_token: str = field(repr=False)
    screen: str | None = None
    data: JsonObject = field(default_factory=dict, repr=False)
    flow_token_signature: str | None = field(default=None, repr=False)


@dataclass(frozen=True, slots=True)
class FlowReply:
    """The next screen and its data; put ``error_message`` in `data` to show a toast on the same screen."""

    screen: str
    data: JsonObject = field(default_factory=dict, repr=False)

    def to_payload(self, version: str) -> JsonObject:
        return {"version": version, "screen": self.screen, "data": self.data}


def close_flow(flow_token: str, params: Mapping[str, Any] | None = None) -> FlowReply:
    """The reply that ends the flow; WhatsApp then sends an ``nfm_reply`` webhook carrying `params`."""
    return FlowReply(
        screen=SUCCESS_SCREEN,
        data={"extension_message_response": {"params": {**(params or {}), "flow_token": flow_token}}},
    )


class FlowTokenInvalid(Exception):
    """Raised by a handler when the flow token is unknown or used up; `message` is shown to the customer."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class FlowResponse(NamedTuple):
    status: int
    body: str


FlowHandler = Callable[[FlowRequest], Awaitable[FlowReply] | FlowReply]


class InvalidFlowRequest(ValueError):
    """The decrypted payload lacks a field the action needs, or has one of the wrong type."""


def _optional_str(payload: Mapping[str, object], name: str) -> str | None:
    value = payload.get(name)
    if value is not None and not isinstance(value, str):
        raise InvalidFlowRequest(f"{name} is not a string")
    return value


def _required_str(payload: Mapping[str, object], name: str) -> str:
    value = _optional_str(payload, name)
    if not value:
        raise InvalidFlowRequest(f"{name} is missing")
    return value


def parse_flow_request(payload: Mapping[str, object]) -> FlowRequest:
    action = payload.get("action")
    if not isinstance(action, str) or action not in _ACTIONS:
        raise InvalidFlowRequest("unsupported action")
    data = payload.get("data")
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise InvalidFlowRequest("data is not an object")
    return FlowRequest(
        version=_required_str(payload, "version"),
        action=FlowAction(action),
        flow_token=_required_str(payload, "flow_token"),
        screen=_optional_str(payload, "screen"),
        data=data,
        flow_token_signature=_optional_str(payload, "flow_token_signature"),
    )


def _is_error_notification(payload: Mapping[str, object]) -> bool:
    data = payload.get("data")
    return payload.get("action") == _ERROR_NOTIFICATION or (isinstance(data, dict) and "error" in data)


def _with_version(payload: Mapping[str, object], reply: JsonObject) -> JsonObject:
    version = payload.get("version")
    return {"version": version, **reply} if isinstance(version, str) else reply


def _raised_at(exc: BaseException) -> str:
    frames = traceback.extract_tb(exc.__traceback__)
    return f"{frames[-1].filename}:{frames[-1].lineno}" if frames else "?"


class FlowEndpoint:
    def __init__(self, private_key: rsa.RSAPrivateKey, app_secret: bytes, handler: FlowHandler) -> None:
        if not app_secret:
            raise ValueError("the Flow endpoint needs the Meta app secret to check signatures")
        self._private_key = private_key
        self._app_secret = app_secret
        self._handler = handler

    async def handle(self, raw_body: bytes, signature_header: str | None) -> FlowResponse:
        check = check_signature(raw_body, signature_header, self._app_secret)
        if check is not SignatureCheck.VALID:
            logger.warning("flow request rejected: signature %s", check.value)
            return FlowResponse(STATUS_SIGNATURE_INVALID, "")

        try:
            body = json.loads(raw_body)
        except (ValueError, RecursionError):
            logger.warning("flow request rejected: body is not JSON")
            return FlowResponse(STATUS_BAD_REQUEST, "")
        try:
            decrypted = decrypt_request(body, self._private_key)
        except FlowDecryptionError:
            logger.warning("flow request rejected: AES key not encrypted for our current public key")
            return FlowResponse(STATUS_KEY_MISMATCH, "")
        except (FlowMalformedError, FlowIntegrityError) as exc:
            logger.warning("flow request rejected: %s", type(exc).__name__)
            return FlowResponse(STATUS_BAD_REQUEST, "")

        payload = decrypted.payload

        def encrypted(status: int, content: JsonObject) -> FlowResponse:
            return FlowResponse(status, encrypt_response(content, decrypted.aes_key, decrypted.iv))

        if payload.get("action") == _PING:
            return encrypted(STATUS_OK, _with_version(payload, {"data": {"status": "active"}}))
        if _is_error_notification(payload):
            self._log_error_notification(payload)
            return encrypted(STATUS_OK, _with_version(payload, {"data": {"acknowledged": True}}))

        try:
            request = parse_flow_request(payload)
        except InvalidFlowRequest as exc:
            logger.warning("flow request rejected: %s", exc)
            return FlowResponse(STATUS_BAD_REQUEST, "")

        try:
            result = self._handler(request)
            if inspect.isawaitable(result):
                result = await result
            if not isinstance(result, FlowReply):
                raise TypeError(f"flow handler returned {type(result).__name__}, not FlowReply")
            return encrypted(STATUS_OK, result.to_payload(request.version))
        except FlowTokenInvalid as exc:
            logger.info("flow token refused (action=%s screen=%s)", request.action, request.screen)
            return encrypted(STATUS_FLOW_TOKEN_INVALID, {"error_msg": exc.message})
        except Exception as exc:
            # The exception text may quote customer data, so only its type and origin are logged.
            logger.error(
                "flow handler failed: %s raised at %s (action=%s screen=%s)",
                type(exc).__name__,
                _raised_at(exc),
                request.action,
                request.screen,
            )
            return FlowResponse(STATUS_SERVER_ERROR, "")

    @staticmethod
    def _log_error_notification(payload: Mapping[str, object]) -> None:
        data = payload.get("data")
        key = data.get("error") if isinstance(data, dict) else None
        safe_key = key if isinstance(key, str) and _LOGGABLE_ERROR_KEY.fullmatch(key) else "?"
        screen = payload.get("screen")
        logger.warning(
            "flow client reported an error: %s (screen=%s)",
            safe_key,
            screen if isinstance(screen, str) and _LOGGABLE_ERROR_KEY.fullmatch(screen) else "?",
        )
