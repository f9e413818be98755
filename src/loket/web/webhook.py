"""`/webhooks/whatsapp`: Meta's verification handshake and signed event deliveries.

Order of checks on POST: size, signature over the raw bytes, then durable storage, then 200.
Processing happens after the answer. A malformed or unknown body that is validly signed is kept
and acknowledged: answering an error would only make Meta redeliver it for a week.
"""

from __future__ import annotations

import hmac
import logging

from starlette.requests import ClientDisconnect, Request
from starlette.responses import PlainTextResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from loket.channel.limits import WEBHOOK_BODY_MAX_BYTES
from loket.channel.signature import SIGNATURE_HEADER, SignatureCheck, check_signature
from loket.inbox.ingest import WebhookIngest
from loket.metrics import WEBHOOK_REQUESTS

log = logging.getLogger(__name__)


class BodyTooLarge(Exception):
    pass


async def read_limited(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge
        chunks.append(chunk)
    return b"".join(chunks)


class WhatsAppWebhook:
    def __init__(self, ingest: WebhookIngest, *, app_secret: str, verify_token: str) -> None:
        self._ingest = ingest
        self._secret = app_secret.encode()
        self._verify_token = verify_token.encode()

    async def verify(self, request: Request) -> Response:
        params = request.query_params
        token = params.get("hub.verify_token", "").encode()
        challenge = params.get("hub.challenge")
        if params.get("hub.mode") != "subscribe" or challenge is None:
            return PlainTextResponse("bad request", status_code=400)
        if not hmac.compare_digest(token, self._verify_token):
            return PlainTextResponse("forbidden", status_code=403)
        return PlainTextResponse(challenge, headers={"X-Content-Type-Options": "nosniff"})

    async def receive(self, request: Request) -> Response:
        try:
            body = await read_limited(request, WEBHOOK_BODY_MAX_BYTES)
        except BodyTooLarge:
            WEBHOOK_REQUESTS.labels("too_large").inc()
            return PlainTextResponse("payload too large", status_code=413)
        except ClientDisconnect:
            return Response(status_code=400)
        status, text = await self.handle(body, request.headers.get(SIGNATURE_HEADER))
        return Response(text, status_code=status, media_type="text/plain")

    async def handle(self, body: bytes, signature: str | None) -> tuple[int, bytes]:
        """Signature, then durable storage, then the status to answer with."""
        check = check_signature(body, signature, self._secret)
        if check is SignatureCheck.MISSING:
            WEBHOOK_REQUESTS.labels("unsigned").inc()
            return 401, b"missing signature"
        if check is SignatureCheck.INVALID:
            WEBHOOK_REQUESTS.labels("bad_signature").inc()
            return 403, b"invalid signature"
        try:
            await self._ingest.ingest(body)
        except Exception:
            # Not stored, so not acknowledged: Meta will deliver it again.
            log.exception("webhook could not be stored")
            WEBHOOK_REQUESTS.labels("store_failed").inc()
            return 503, b"temporarily unavailable"
        WEBHOOK_REQUESTS.labels("stored").inc()
        return 200, b""


_SIGNATURE_HEADER = SIGNATURE_HEADER.lower().encode()
_TEXT = [(b"content-type", b"text/plain; charset=utf-8")]


async def _answer(send: Send, status: int, text: bytes = b"") -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [*_TEXT, (b"content-length", str(len(text)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": text})


class WebhookFastPath:
    """Serves `POST /webhooks/whatsapp` straight from ASGI, in front of the FastAPI app.

    The webhook is the hottest path by far (Meta sends about three status callbacks per message
    sent); skipping the framework's request objects and middleware stack for it roughly doubles
    what one process can take. Every other request goes to the wrapped app unchanged.
    """

    def __init__(self, app: ASGIApp, webhook: WhatsAppWebhook, path: str) -> None:
        self.app = app
        self._webhook = webhook
        self._path = path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or scope["path"] != self._path:
            await self.app(scope, receive, send)
            return
        signature: str | None = None
        for name, value in scope["headers"]:
            if name == b"content-length" and value.isdigit() and int(value) > WEBHOOK_BODY_MAX_BYTES:
                WEBHOOK_REQUESTS.labels("too_large").inc()
                await _answer(send, 413, b"payload too large")
                return
            if name == _SIGNATURE_HEADER:
                signature = value.decode("latin-1")
        chunks: list[bytes] = []
        size = 0
        while True:
            message: Message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > WEBHOOK_BODY_MAX_BYTES:
                WEBHOOK_REQUESTS.labels("too_large").inc()
                await _answer(send, 413, b"payload too large")
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        status, text = await self._webhook.handle(b"".join(chunks), signature)
        await _answer(send, status, text)
