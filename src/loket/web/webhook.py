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
        check = check_signature(body, request.headers.get(SIGNATURE_HEADER), self._secret)
        if check is SignatureCheck.MISSING:
            WEBHOOK_REQUESTS.labels("unsigned").inc()
            return PlainTextResponse("missing signature", status_code=401)
        if check is SignatureCheck.INVALID:
            WEBHOOK_REQUESTS.labels("bad_signature").inc()
            return PlainTextResponse("invalid signature", status_code=403)
        try:
            await self._ingest.ingest(body)
        except Exception:
            # Not stored, so not acknowledged: Meta will deliver it again.
            log.exception("webhook could not be stored")
            WEBHOOK_REQUESTS.labels("store_failed").inc()
            return PlainTextResponse("temporarily unavailable", status_code=503)
        WEBHOOK_REQUESTS.labels("stored").inc()
        return Response(status_code=200)
