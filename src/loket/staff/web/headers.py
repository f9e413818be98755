"""Security headers on every response, and a strict Content-Security-Policy with a per-request nonce.

HTML pages get `default-src 'self'` and scripts only from 'self' or with the nonce found in
`request.state.csp_nonce` (`<script nonce="{{ request.state.csp_nonce }}">`); everything else gets a
policy that allows nothing at all, since a JSON answer never needs to load anything.
"""

from __future__ import annotations

import base64
import secrets
from collections.abc import Sequence

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

HTML_POLICY = (
    "default-src 'self'; script-src 'self' 'nonce-{nonce}'; style-src 'self' 'nonce-{nonce}'; "
    "img-src 'self' data:; connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
    "frame-ancestors 'none'; form-action 'self'"
)
OTHER_POLICY = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
COMMON = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=(), usb=()",
    "Strict-Transport-Security": "max-age=31536000; includeSubDomains",
}


def new_nonce() -> str:
    return base64.b64encode(secrets.token_bytes(16)).decode()


class SecurityHeaders:
    """Pure ASGI middleware; paths under `exclude` (e.g. the sandbox's own pages) are left alone."""

    def __init__(self, app: ASGIApp, *, exclude: Sequence[str] = ()) -> None:
        self.app = app
        self.exclude = tuple(exclude)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or str(scope.get("path", "")).startswith(self.exclude):
            await self.app(scope, receive, send)
            return
        nonce = new_nonce()
        scope.setdefault("state", {})["csp_nonce"] = nonce

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in COMMON.items():
                    headers.setdefault(name, value)
                is_html = headers.get("content-type", "").startswith("text/html")
                policy = HTML_POLICY.format(nonce=nonce) if is_html else OTHER_POLICY
                headers.setdefault("Content-Security-Policy", policy)
            await send(message)

        await self.app(scope, receive, send_with_headers)
