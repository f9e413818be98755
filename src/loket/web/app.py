"""Builds the ASGI application of `loket serve` and `loket demo` from a Runtime."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager

from fastapi import FastAPI
from starlette.types import ASGIApp

from loket import __version__
from loket.console.app import install_console
from loket.db.migrate import check_schema
from loket.db.scope import SystemReason, system_scope
from loket.dialogue.agent_api import build_agent_router
from loket.flows.keys import load_flows_key
from loket.flows.service import FlowService
from loket.privacy.web import build_privacy_router
from loket.runtime import Runtime
from loket.web.flows import FLOWS_PATH, FlowRoute
from loket.web.governance import audit_keyring, checkpoint_forever, install_governance
from loket.web.health import Health
from loket.web.scope_reset import ScopeReset
from loket.web.webhook import WebhookFastPath, WhatsAppWebhook

WEBHOOK_PATH = "/webhooks/whatsapp"
log = logging.getLogger(__name__)


def build_app(
    runtime: Runtime,
    *,
    process: bool,
    dispatch: bool,
    mounts: dict[str, ASGIApp] | None = None,
    check_schema_on_start: bool = True,
    companions: Sequence[tuple[Callable[[], Awaitable[None]], Callable[[], Awaitable[None]]]] = (),
) -> ASGIApp:
    """`companions` are (start, stop) pairs run with this app, e.g. a mounted sandbox's runtime:
    Starlette does not run the lifespan of mounted apps."""
    settings = runtime.settings

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if check_schema_on_start:
            await check_schema(runtime.db)
        await runtime.directory.refresh()
        for start, _ in companions:
            await start()
        await runtime.start(process=process, dispatch=dispatch)
        with system_scope(SystemReason.SCHEDULER):  # checkpoints sign every tenant's log
            checkpoints = asyncio.create_task(checkpoint_forever(audit_keyring(runtime))) if process else None
        try:
            yield
        finally:
            if checkpoints is not None:
                checkpoints.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await checkpoints
            await runtime.stop()
            for _, stop in reversed(companions):
                await stop()

    app = FastAPI(
        title="Loket",
        version=__version__,
        summary="A regulated service counter on WhatsApp for Indonesian financial institutions",
        lifespan=lifespan,
    )
    app.state.runtime = runtime
    app.add_middleware(ScopeReset)  # every request starts without a tenant scope (loket.db.scope)
    install_governance(app, runtime, headers_exclude=(*(mounts or {}), WEBHOOK_PATH))
    install_console(app, redis_url=settings.redis_url)  # the staff console under /console (docs/console.md)
    webhook = WhatsAppWebhook(
        runtime.ingest,
        app_secret=settings.meta_app_secret or "",
        verify_token=settings.webhook_verify_token or "",
    )
    # Plain Starlette routes: the webhook is the hottest path and needs no dependency injection.
    app.add_route(WEBHOOK_PATH, webhook.verify, methods=["GET"], include_in_schema=False)
    app.add_route(WEBHOOK_PATH, webhook.receive, methods=["POST"], include_in_schema=False)
    flows = FlowRoute(
        load_flows_key(settings),
        app_secret=settings.meta_app_secret or "",
        handler=FlowService(runtime.db, runtime.box, clock=runtime.clock),
    )
    if not flows.configured:
        log.warning("WhatsApp Flows are off: set LOKET_FLOWS_PRIVATE_KEY_FILE; %s answers 421 until then", FLOWS_PATH)
    app.add_route(FLOWS_PATH, flows.receive, methods=["POST"], include_in_schema=False)
    health = Health(runtime.db)
    app.add_route("/healthz", health.healthz, methods=["GET"], include_in_schema=False)
    app.add_route("/readyz", health.readyz, methods=["GET"], include_in_schema=False)
    app.add_route("/metrics", health.metrics, methods=["GET"], include_in_schema=False)
    app.include_router(runtime.outbound.events_router())
    app.include_router(build_agent_router(runtime.db, clock=runtime.clock))
    app.include_router(build_privacy_router(runtime))  # data-subject requests (docs/privacy.md)
    for path, sub_app in (mounts or {}).items():
        app.mount(path, sub_app)
    return WebhookFastPath(app, webhook, WEBHOOK_PATH)
