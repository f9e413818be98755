"""Harness for the sandbox tests: the sandbox served by a real uvicorn on a free port, and a small aiohttp
webhook receiver that checks every signature, the way Loket's own receiver will. Imported by this name
because `conftest` is not a unique module name across the tree."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import orjson
import pytest
import uvicorn
from aiohttp import web

from loket.channel.signature import SignatureCheck, check_signature
from loket.clock import FakeClock
from loket.sandbox import DemoPhone, PhoneNumber, RetryPolicy, SandboxSettings, build_sandbox_app
from loket.sandbox.app import sandbox_runtime
from loket.sandbox.state import SandboxState

APP_SECRET = "test-app-secret"
TOKEN = "test-token"
PNID = "111000111000111"
WABA = "222000222000222"
DISPLAY = "6281100000001"
CUSTOMER = "6281234500001"
CUSTOMER_2 = "6281234500002"

JsonObject = dict[str, Any]


@dataclass
class Received:
    raw: bytes
    headers: dict[str, str]
    body: JsonObject

    @property
    def change(self) -> JsonObject:
        return self.body["entry"][0]["changes"][0]  # type: ignore[no-any-return]

    @property
    def value(self) -> JsonObject:
        return self.change["value"]  # type: ignore[no-any-return]

    @property
    def statuses(self) -> list[JsonObject]:
        return self.value.get("statuses", [])  # type: ignore[no-any-return]

    @property
    def messages(self) -> list[JsonObject]:
        return self.value.get("messages", [])  # type: ignore[no-any-return]


@dataclass
class Receiver:
    """Answers with the queued status codes first, then 200; keeps what it accepted and what it refused."""

    url: str = ""
    responses: list[int] = field(default_factory=list)
    accepted: list[Received] = field(default_factory=list)
    refused: list[Received] = field(default_factory=list)
    bad_signatures: int = 0
    arrivals: list[float] = field(default_factory=list)

    async def handle(self, request: web.Request) -> web.Response:
        raw = await request.read()
        self.arrivals.append(time.monotonic())
        if check_signature(raw, request.headers.get("X-Hub-Signature-256"), APP_SECRET.encode()) is not (
            SignatureCheck.VALID
        ):
            self.bad_signatures += 1
            return web.Response(status=403)
        item = Received(raw, dict(request.headers), orjson.loads(raw))
        status = self.responses.pop(0) if self.responses else 200
        (self.accepted if status == 200 else self.refused).append(item)
        return web.Response(status=status, text="ok")

    async def wait_for(self, predicate: Callable[[list[Received]], bool], within: float = 3.0) -> list[Received]:
        deadline = time.monotonic() + within
        while not predicate(self.accepted):
            if time.monotonic() > deadline:
                raise AssertionError(f"webhooks not as expected: {[r.body for r in self.accepted]}")
            await asyncio.sleep(0.005)
        return self.accepted

    async def wait_count(self, count: int, within: float = 3.0) -> list[Received]:
        return await self.wait_for(lambda got: len(got) >= count, within)

    def statuses(self, wamid: str | None = None) -> list[JsonObject]:
        return [s for r in self.accepted for s in r.statuses if wamid is None or s["id"] == wamid]

    def messages(self) -> list[JsonObject]:
        return [m for r in self.accepted for m in r.messages]


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    receiver = Receiver()
    app = web.Application()
    app.router.add_post("/webhooks/whatsapp", receiver.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    receiver.url = f"http://127.0.0.1:{port}/webhooks/whatsapp"
    yield receiver
    await runner.cleanup()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def make_settings(webhook_url: str | None, **overrides: Any) -> SandboxSettings:
    settings = SandboxSettings(
        app_secret=APP_SECRET,
        webhook_url=webhook_url,
        numbers=[PhoneNumber(PNID, DISPLAY, WABA, TOKEN, verified_name="Bank Uji")],
        demo_phones=[
            DemoPhone(CUSTOMER, "Siti Rahayu", PNID, "id", "bank-uji", "Bank Uji", "cust-1"),
            DemoPhone(CUSTOMER_2, "Budi Santoso", PNID, "en", "bank-uji", "Bank Uji", "cust-2"),
        ],
        webhook_retry=RetryPolicy(base_seconds=0.01, factor=2.0, cap_seconds=0.05, jitter=0.0, max_attempts=5),
        random_seed=7,
    )
    for name, value in overrides.items():
        setattr(settings, name, value)
    return settings


class Sandbox:
    def __init__(self, base: str, session: aiohttp.ClientSession, state: SandboxState, clock: FakeClock) -> None:
        self.base = base
        self.http = session
        self.state = state
        self.clock = clock

    async def call(
        self, method: str, path: str, body: object = None, *, token: str | None = TOKEN, **kwargs: Any
    ) -> tuple[int, Any]:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        data = orjson.dumps(body) if body is not None else None
        if data is not None:
            headers["Content-Type"] = "application/json"
        async with self.http.request(method, self.base + path, data=data, headers=headers, **kwargs) as resp:
            raw = await resp.read()
            if resp.content_type == "application/json":
                return resp.status, orjson.loads(raw)
            return resp.status, raw

    async def send(self, message: JsonObject, *, token: str | None = TOKEN, pnid: str = PNID) -> tuple[int, Any]:
        body = {"messaging_product": "whatsapp", "recipient_type": "individual", **message}
        return await self.call("POST", f"/v23.0/{pnid}/messages", body, token=token)

    async def send_text(
        self, to: str = CUSTOMER, text: str = "Halo", *, token: str | None = TOKEN, pnid: str = PNID, **extra: Any
    ) -> tuple[int, Any]:
        return await self.send({"to": to, "type": "text", "text": {"body": text}, **extra}, token=token, pnid=pnid)

    async def inbound(self, spec: JsonObject) -> JsonObject:
        status, body = await self.call("POST", "/_sandbox/inbound", {"wa_id": CUSTOMER, **spec}, token=None)
        assert status == 200, body
        return body  # type: ignore[no-any-return]

    async def advance(self, seconds: float) -> None:
        status, _ = await self.call("POST", "/_sandbox/clock/advance", {"seconds": seconds}, token=None)
        assert status == 200

    async def settle(self) -> None:
        """Let due timers fire (the scheduler polls every 20 ms) and deliveries finish."""
        self.state.scheduler.run_due()
        await self.state.dispatcher.wait_idle(3.0)


async def serve(app: Any) -> tuple[uvicorn.Server, int]:
    """Start uvicorn without its main loop, whose 0.1 s ticks would dominate these tests' run time."""
    config = uvicorn.Config(
        app, host="127.0.0.1", port=0, log_level="warning", lifespan="on", ws="none", access_log=False
    )
    config.load()
    server = uvicorn.Server(config)
    server.lifespan = config.lifespan_class(config)
    await server.startup()
    port = server.servers[0].sockets[0].getsockname()[1]
    return server, port


async def stop(server: uvicorn.Server) -> None:
    for listener in server.servers:
        listener.close()
    for connection in list(server.server_state.connections):
        connection.shutdown()
    await server.lifespan.shutdown()


@pytest.fixture
def sandbox_overrides() -> dict[str, Any]:
    return {}


@pytest.fixture
async def sandbox(receiver: Receiver, clock: FakeClock, sandbox_overrides: dict[str, Any]) -> AsyncIterator[Sandbox]:
    settings = make_settings(receiver.url, **sandbox_overrides)
    app = build_sandbox_app(settings, clock=clock)
    server, port = await serve(app)
    async with aiohttp.ClientSession() as session:
        yield Sandbox(f"http://127.0.0.1:{port}", session, sandbox_runtime(app).state, clock)
    await stop(server)


async def open_window(sandbox: Sandbox, wa_id: str = CUSTOMER) -> str:
    """The customer writes first, which opens the 24-hour window; returns the inbound wamid."""
    body = await sandbox.inbound({"wa_id": wa_id, "type": "text", "text": "Halo"})
    return str(body["id"])


def add_template(
    sandbox: Sandbox,
    name: str = "tagihan_jatuh_tempo",
    body: str = "Halo {{1}}, tagihan Anda {{2}} jatuh tempo.",
    *,
    category: str = "UTILITY",
    language: str = "id",
    status: str = "APPROVED",
    header: JsonObject | None = None,
    buttons: list[JsonObject] | None = None,
) -> str:
    components: list[JsonObject] = [{"type": "BODY", "text": body}]
    if header is not None:
        components.insert(0, {"type": "HEADER", **header})
    if buttons is not None:
        components.append({"type": "BUTTONS", "buttons": buttons})
    spec = {"name": name, "language": language, "category": category, "components": components}
    template = sandbox.state.templates.create(WABA, spec, sandbox.clock.now(), status=status)
    return template.id


def template_message(
    name: str = "tagihan_jatuh_tempo", params: tuple[str, ...] = ("Siti", "Rp 150.000"), **extra: Any
) -> JsonObject:
    components: list[JsonObject] = [{"type": "body", "parameters": [{"type": "text", "text": p} for p in params]}]
    components.extend(extra.pop("more_components", []))
    return {
        "type": "template",
        "template": {"name": name, "language": {"code": extra.pop("language", "id")}, "components": components},
        **extra,
    }
