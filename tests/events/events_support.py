"""A harness for the events API: the outbound services on the test database, the demo institution,
a scripted channel, a signing secret, and a small in-process ASGI client."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from fastapi import FastAPI

from loket.clock import FakeClock
from loket.config import Settings
from loket.core.demo.institution import DemoCore
from loket.db.engine import Database
from loket.demo import seed_summary, seed_tenants
from loket.events.services import OutboundServices
from loket.events.signing import SIGNATURE_HEADER, TENANT_HEADER, signature_header
from loket.security.secretbox import SecretBox
from loket.tenancy.directory import PhoneDirectory
from outbound_fakes import ScriptedChannel

BANK = "bank-nusantara"
# Monday 30 November 2026, 10:00 WIB.
START = datetime(2026, 11, 30, 3, 0, tzinfo=UTC)


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: Any


async def call(
    app: FastAPI, method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None
) -> Answer:
    raw_headers = [(b"host", b"loket.test"), (b"content-type", b"application/json")]
    raw_headers += [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    raw_headers.append((b"content-length", str(len(body)).encode()))
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "https",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": raw_headers,
        "client": ("192.0.2.1", 40000),
        "server": ("loket.test", 443),
        "app": app,
    }
    sent = False
    start: dict[str, Any] = {}
    chunks: list[bytes] = []

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            start.update(message)
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app(scope, receive, send)
    data = b"".join(chunks)
    return Answer(
        int(start["status"]),
        {k.decode().lower(): v.decode() for k, v in start.get("headers", [])},
        orjson.loads(data) if data else None,
    )


@dataclass
class Harness:
    db: Database
    clock: FakeClock
    core: DemoCore
    services: OutboundServices
    channel: ScriptedChannel
    app: FastAPI
    secret: str
    customers: list[dict[str, Any]]

    def headers(
        self, body: bytes, *, tenant: str = BANK, age: float = 0.0, secret: str | None = None
    ) -> dict[str, str]:
        stamp = int(self.clock.now().timestamp() - age)
        return {
            TENANT_HEADER: tenant,
            SIGNATURE_HEADER: signature_header((secret or self.secret).encode(), stamp, body),
        }

    async def post(self, path: str, payload: Any, **kwargs: Any) -> Answer:
        body = orjson.dumps(payload)
        return await call(self.app, "POST", path, body, self.headers(body, **kwargs))

    async def get(self, path: str) -> Answer:
        return await call(self.app, "GET", path, b"", self.headers(b""))

    def customer(self, index: int = 0) -> dict[str, Any]:
        return self.customers[index]


def transaction(
    customer_id: str, account_id: str, event_id: str = "evt-1", amount: object = 1_250_000, **data: Any
) -> dict[str, Any]:
    return {
        "id": event_id,
        "type": "transaction.posted",
        "occurred_at": "2026-11-30T10:15:00+07:00",
        "customer_id": customer_id,
        "data": {
            "account_id": account_id,
            "transaction_id": f"TRX-{event_id}",
            "direction": "debit",
            "amount": amount,
            "description": "Pembayaran QRIS",
            "counterparty": "Toko Elektronik Jaya",
            "balance_after": 8_420_500,
            **data,
        },
    }


def confirmation(
    customer_id: str, event_id: str = "cfm-1", *, risk: str = "low", minutes: int = 10, **data: Any
) -> dict[str, Any]:
    return {
        "id": event_id,
        "type": "confirmation.requested",
        "occurred_at": START.isoformat(),
        "customer_id": customer_id,
        "data": {
            "amount": 2_500_000,
            "payee": "PT Sumber Makmur",
            "channel": "Internet banking",
            "expires_at": (START + timedelta(minutes=minutes)).isoformat(),
            "risk": risk,
            **data,
        },
    }


async def make_harness(db: Database, settings: Settings) -> Harness:
    box = SecretBox(settings.master_key_bytes)
    await seed_tenants(db, box)
    clock = FakeClock(START)
    core = DemoCore.generate(clock)
    directory = PhoneDirectory(db, box, clock=clock)
    channel = ScriptedChannel()
    services = OutboundServices.build(
        settings, db=db, box=box, directory=directory, channel=channel, core=core, clock=clock
    )
    services.dispatcher.pacing = type(services.dispatcher.pacing)(enabled=False)
    secret = await services.endpoints.rotate(BANK, callback_url="http://127.0.0.1:9/callbacks")
    app = FastAPI()
    app.include_router(services.events_router())
    summary = await seed_summary(core)
    customers = []
    for customer in summary["customers"]:
        if customer["tenant_id"] != BANK:
            continue
        accounts = await core.list_accounts(BANK, customer["customer_id"])
        cards = await core.list_cards(BANK, customer["customer_id"])
        customers.append(customer | {"accounts": accounts, "cards": cards})
    return Harness(db, clock, core, services, channel, app, secret, customers)
