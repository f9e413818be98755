"""A Graph API and core-system stand-in for load runs, as one process.

- The sandbox (`loket.sandbox`) with one bench number whose throughput limit is configurable
  (`--mps`; 0 = unlimited), Loket's templates seeded as approved, no webhooks (unless
  `--webhook-url`), and the pair rate relaxed (`--pair-interval`).
- A synthetic core API at /core: customer `BENCH-000042` exists for every number, with the phone
  +6281200000042 and one savings account `ACC-000042`, so load runs can use thousands of
  distinct customers.
- `GET /bench/arrivals?after=N`: each accepted `POST .../messages`, with the stand-in's arrival time
  (time.time()) and the bench tag found in the body ("bench:<id>"), for latency measurement;
  `GET /bench/rate`: sends per whole second, for rate checks.

    python bench/standin.py --port 8090 --mps 0
"""

from __future__ import annotations

import argparse
import asyncio
import re
import time
from typing import Any

import uvicorn
from fastapi import APIRouter, FastAPI, HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from loket.outbound.templates import DEFINITIONS, LANGUAGES
from loket.sandbox.app import build_sandbox_app
from loket.sandbox.settings import PhoneNumber, SandboxSettings, SeedTemplate

PNID = "100000000000777"
WABA = "200000000000777"
TOKEN = "bench-token"
TENANT = "bench-bank"
_TAG = re.compile(rb"bench:([A-Za-z0-9._:-]+)")


def customer_number(customer_id: str) -> int:
    if not customer_id.startswith("BENCH-") or not customer_id[6:].isdigit():
        raise HTTPException(404, detail={"error": {"code": "not_found", "message": "no such customer"}})
    return int(customer_id[6:])


def wa_id(n: int) -> str:
    return f"62812{n:08d}"


def core_router() -> APIRouter:
    router = APIRouter()
    base = "/v1/tenants/{tenant_id}"

    @router.get(base + "/customers/{customer_id}")
    async def customer(tenant_id: str, customer_id: str) -> dict[str, Any]:
        n = customer_number(customer_id)
        return {
            "customer_id": customer_id,
            "tenant_id": tenant_id,
            "full_name": f"Nasabah Bench {n}",
            "phone_e164": "+" + wa_id(n),
            "language": "id",
            "province": "DKI Jakarta",
            "timezone": "Asia/Jakarta",
            "date_of_birth": "1990-01-01",
            "email": None,
        }

    @router.get(base + "/customers/{customer_id}/accounts")
    async def accounts(tenant_id: str, customer_id: str) -> dict[str, Any]:
        n = customer_number(customer_id)
        account = {
            "account_id": f"ACC-{n:06d}",
            "customer_id": customer_id,
            "kind": "savings",
            "number": f"9{n:09d}",
            "product_name": "Tabungan Bench",
            "currency": "IDR",
            "balance": 1_000_000,
            "available_balance": 1_000_000,
        }
        return {"items": [account]}

    @router.get(base + "/customers")
    async def by_phone(tenant_id: str, phone: str) -> dict[str, Any]:
        digits = phone.lstrip("+")
        if not digits.startswith("62812"):
            raise HTTPException(404)
        return await customer(tenant_id, f"BENCH-{int(digits[5:]):06d}")

    return router


class Arrivals:
    """Records when each send arrived, before the sandbox handles it."""

    def __init__(self, app: ASGIApp, latency: float = 0.0) -> None:
        self.app = app
        self.latency = latency  # seconds each send waits before it is answered (a slow Graph API)
        self.log: list[tuple[float, bytes | None, int]] = []  # arrival, tag, status

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or not scope["path"].endswith("/messages"):
            await self.app(scope, receive, send)
            return
        arrived = time.time()
        chunks: list[bytes] = []
        if self.latency:
            await asyncio.sleep(self.latency)

        async def replay() -> Message:
            message = await receive()
            chunks.append(message.get("body", b""))
            return message

        status = [0]

        async def capture(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = int(message["status"])
            await send(message)

        await self.app(scope, replay, capture)
        found = _TAG.search(b"".join(chunks))
        self.log.append((arrived, found.group(1) if found else None, status[0]))


def build(mps: float, pair_interval: float, webhook_url: str | None, app_secret: str, latency: float = 0.0) -> ASGIApp:
    templates = [
        SeedTemplate(WABA, d.name, language, d.category, d.creation_body(language)["components"])
        for d in DEFINITIONS
        for language in LANGUAGES
    ]
    settings = SandboxSettings(
        app_secret=app_secret,
        webhook_url=webhook_url,
        numbers=[PhoneNumber(PNID, "6281100000777", WABA, TOKEN, "Bank Bench", messages_per_second=mps)],
        templates=templates,
        pair_rate_interval_seconds=pair_interval,
        pair_rate_burst=1000,
        enforce_customer_service_window=False,  # Loket's own gate decides; the stand-in measures sends
        auto_read_delay_seconds=None,
        delivery_log_size=100,
    )
    sandbox = build_sandbox_app(settings, extra_routers=[("/core", core_router())])
    outer = FastAPI()
    recorder = Arrivals(sandbox, latency)

    @outer.get("/bench/arrivals")
    async def arrivals(after: int = 0) -> Response:
        rows = [(t, tag.decode() if tag else None, status) for t, tag, status in recorder.log[after:]]
        return JSONResponse({"count": len(recorder.log), "arrivals": rows})

    @outer.get("/bench/rate")
    async def rate() -> Response:
        per_second: dict[int, int] = {}
        for arrived, _, status in recorder.log:
            if status == 200:
                per_second[int(arrived)] = per_second.get(int(arrived), 0) + 1
        return JSONResponse({"max_per_second": max(per_second.values(), default=0), "seconds": len(per_second)})

    @outer.get("/readyz")
    async def ready(request: Request) -> Response:
        return JSONResponse({"ok": True})

    outer.mount("/", recorder)
    return outer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--mps", type=float, default=0.0, help="the bench number's limit; 0: none")
    parser.add_argument("--pair-interval", type=float, default=0.001)
    parser.add_argument("--webhook-url", default=None)
    parser.add_argument("--app-secret", default="bench-app-secret")
    parser.add_argument("--latency", type=float, default=0.0, help="seconds before each send is answered")
    args = parser.parse_args()
    app = build(args.mps, args.pair_interval, args.webhook_url, args.app_secret, args.latency)
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
