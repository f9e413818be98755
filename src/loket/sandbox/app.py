"""The sandbox as an ASGI app: run it alone (`run_sandbox`) or mount it inside another app.

Starlette does not run a mounted app's lifespan, so a parent app should call `sandbox_runtime(app)`'s
`start()`/`stop()` from its own lifespan; failing that, the first request starts the background tasks."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Mapping, Sequence

import uvicorn
from fastapi import APIRouter, FastAPI
from starlette.types import ASGIApp, Receive, Scope, Send

from loket.clock import Clock, system_clock
from loket.sandbox import (
    account_route,
    admin_api,
    flows_api,
    media_route,
    messages_route,
    page,
    simulator_api,
    templates_route,
)
from loket.sandbox.errors import GraphError, graph_error_handler
from loket.sandbox.flows import FlowSession
from loket.sandbox.settings import SandboxSettings
from loket.sandbox.simulator_api import SimulatorError, simulator_error_handler
from loket.sandbox.state import SandboxState


class SandboxRuntime:
    """The state plus the background tasks that serve it: webhook delivery and the clock's timers."""

    def __init__(self, settings: SandboxSettings, clock: Clock) -> None:
        self.state = SandboxState(settings, clock)
        self.flow_sessions: dict[str, FlowSession] = {}
        self._timers: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()

    @property
    def started(self) -> bool:
        return self._timers is not None

    async def start(self) -> None:
        async with self._lock:
            if self._timers is not None:
                return
            await self.state.dispatcher.start()
            self._timers = asyncio.create_task(self.state.scheduler.run_forever())

    async def stop(self) -> None:
        async with self._lock:
            if self._timers is not None:
                self._timers.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._timers
                self._timers = None
            await self.state.dispatcher.stop()


class _StartOnFirstRequest:
    def __init__(self, app: ASGIApp, runtime: SandboxRuntime) -> None:
        self.app = app
        self.runtime = runtime

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not self.runtime.started:
            await self.runtime.start()
        await self.app(scope, receive, send)


def sandbox_runtime(app: FastAPI) -> SandboxRuntime:
    runtime = app.state.sandbox
    assert isinstance(runtime, SandboxRuntime)
    return runtime


def build_sandbox_app(
    settings: SandboxSettings,
    *,
    clock: Clock | None = None,
    extra_routers: Sequence[tuple[str, APIRouter]] = (),
    mounts: Mapping[str, ASGIApp] | None = None,
) -> FastAPI:
    """`extra_routers` are (prefix, router) pairs served under the sandbox root, e.g. ("/core", core_router);
    `mounts` are whole ASGI apps by prefix."""
    runtime = SandboxRuntime(settings, clock or system_clock)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await runtime.start()
        try:
            yield
        finally:
            await runtime.stop()

    app = FastAPI(
        title="Loket sandbox: WhatsApp Cloud API emulator",
        lifespan=lifespan,
        docs_url="/_sandbox/docs",
        redoc_url=None,
        openapi_url="/_sandbox/openapi.json",
    )
    app.state.sandbox = runtime
    app.add_exception_handler(GraphError, graph_error_handler)
    app.add_exception_handler(SimulatorError, simulator_error_handler)
    app.add_middleware(_StartOnFirstRequest, runtime=runtime)

    for router in (page.router, simulator_api.router, admin_api.router, flows_api.router):
        app.include_router(router)
    for prefix, router in extra_routers:
        app.include_router(router, prefix=prefix)
    for prefix, mounted in (mounts or {}).items():
        app.mount(prefix, mounted)
    app.include_router(media_route.download_router)
    for router in (messages_route.router, templates_route.router, account_route.router, media_route.router):
        app.include_router(router, tags=["Cloud API"])
    return app


def run_sandbox(host: str, port: int, settings: SandboxSettings) -> None:
    """Serve the sandbox alone, e.g. for `loket sandbox`."""
    uvicorn.run(build_sandbox_app(settings), host=host, port=port, log_level="info")
