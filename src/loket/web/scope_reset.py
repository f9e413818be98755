"""Every request starts with no tenant scope: it gets one only from who is calling (loket.db.scope).

Without this, a request handled in a task that inherited a scope (an in-process server started
inside one, a test) would run with it. The staff and API key dependencies bind the caller's tenant.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from loket.db.scope import unscoped


class ScopeReset:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        with unscoped():
            await self.app(scope, receive, send)
