"""`POST /webhooks/whatsapp/flows`: the WhatsApp Flow data endpoint, a thin adapter over `FlowEndpoint`.

Signature (432), decryption (421), token (427) and the encrypted reply are `FlowEndpoint`'s work; this
module caps the body size and counts outcomes. Without a configured private key the route still checks
the signature, then answers 421: nothing here can decrypt, so the client should not keep trying.
"""

from __future__ import annotations

import logging

from cryptography.hazmat.primitives.asymmetric import rsa
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response

from loket.channel.flows_endpoint import STATUS_KEY_MISMATCH, STATUS_SIGNATURE_INVALID, FlowEndpoint, FlowHandler
from loket.channel.signature import SIGNATURE_HEADER, SignatureCheck, check_signature
from loket.metrics import FLOW_REQUESTS
from loket.web.webhook import BodyTooLarge, read_limited

log = logging.getLogger(__name__)

FLOWS_PATH = "/webhooks/whatsapp/flows"
# A Flow request is a small JSON object (media uploads travel as CDN links): 1 MiB is generous.
FLOW_BODY_MAX_BYTES = 1024 * 1024
NOT_CONFIGURED = "WhatsApp Flows are not configured on this server (no business private key)"


class FlowRoute:
    def __init__(self, private_key: rsa.RSAPrivateKey | None, *, app_secret: str, handler: FlowHandler) -> None:
        self._secret = app_secret.encode()
        self._endpoint = FlowEndpoint(private_key, self._secret, handler) if private_key and app_secret else None

    @property
    def configured(self) -> bool:
        return self._endpoint is not None

    async def receive(self, request: Request) -> Response:
        try:
            body = await read_limited(request, FLOW_BODY_MAX_BYTES)
        except BodyTooLarge:
            return self._answer(413, "payload too large")
        except ClientDisconnect:
            return Response(status_code=400)
        signature = request.headers.get(SIGNATURE_HEADER)
        if self._endpoint is None:
            if not self._secret or check_signature(body, signature, self._secret) is not SignatureCheck.VALID:
                return self._answer(STATUS_SIGNATURE_INVALID, "")
            log.warning("flow request refused: %s", NOT_CONFIGURED)
            return self._answer(STATUS_KEY_MISMATCH, NOT_CONFIGURED)
        status, text = await self._endpoint.handle(body, signature)
        return self._answer(status, text)

    @staticmethod
    def _answer(status: int, text: str) -> Response:
        FLOW_REQUESTS.labels(str(status)).inc()
        return Response(text, status_code=status, media_type="text/plain")
