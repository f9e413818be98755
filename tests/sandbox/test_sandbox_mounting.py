"""Mounted under a prefix inside another app, as the demo does: URLs, lazy start, extra routers, the page."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from fastapi import APIRouter, FastAPI
from sandbox_harness import CUSTOMER, PNID, TOKEN, Receiver, make_settings, serve, stop

from loket.sandbox import build_sandbox_app, sandbox_runtime

JsonObject = dict[str, Any]


@pytest.fixture
async def mounted(receiver: Receiver) -> AsyncIterator[tuple[str, aiohttp.ClientSession, FastAPI]]:
    core = APIRouter()

    @core.get("/v1/tenants/{tenant_id}/step-ups")
    async def step_ups(tenant_id: str, customer_id: str, status: str) -> list[JsonObject]:
        return [
            {
                "request_id": "su-1",
                "action": "transfer",
                "created_at": "2026-11-02T03:00:00Z",
                "expires_at": "2026-11-02T03:05:00Z",
                "status": status,
            }
        ]

    sandbox = build_sandbox_app(make_settings(receiver.url), extra_routers=[("/core", core)])
    outer = FastAPI()
    outer.mount("/sandbox", sandbox)
    server, port = await serve(outer)
    async with aiohttp.ClientSession() as session:
        yield f"http://127.0.0.1:{port}", session, sandbox
    await stop(server)
    await sandbox_runtime(sandbox).stop()


async def test_page_and_assets_under_prefix(mounted: tuple[str, aiohttp.ClientSession, FastAPI]) -> None:
    base, http, _ = mounted
    async with http.get(f"{base}/sandbox", allow_redirects=False) as response:
        assert response.status == 307
        assert response.headers["Location"].endswith("/sandbox/")
    async with http.get(f"{base}/sandbox/") as response:
        assert response.status == 200
        html = await response.text()
        assert 'src="static/phone.js"' in html and 'href="static/phone.css"' in html
        assert "Content-Security-Policy" in response.headers
    for name, kind in (("phone.js", "javascript"), ("phone.css", "css")):
        async with http.get(f"{base}/sandbox/static/{name}") as response:
            assert response.status == 200 and kind in response.headers["Content-Type"]
            body = await response.text()
            assert "http://" not in body.replace("http://www.w3.org", "")
    async with http.get(f"{base}/sandbox/static/../app.py") as response:
        assert response.status == 404


async def test_api_under_prefix_starts_lazily(
    mounted: tuple[str, aiohttp.ClientSession, FastAPI], receiver: Receiver
) -> None:
    base, http, sandbox = mounted
    assert not sandbox_runtime(sandbox).started  # Starlette does not run a mounted app's lifespan
    async with http.post(
        f"{base}/sandbox/_sandbox/inbound", json={"wa_id": CUSTOMER, "type": "text", "text": "Hai"}
    ) as r:
        assert r.status == 200
    await receiver.wait_count(1)
    assert sandbox_runtime(sandbox).started

    form = aiohttp.FormData()
    form.add_field("messaging_product", "whatsapp")
    form.add_field("file", b"%PDF-1.4", filename="a.pdf", content_type="application/pdf")
    headers = {"Authorization": f"Bearer {TOKEN}"}
    async with http.post(f"{base}/sandbox/v23.0/{PNID}/media", data=form, headers=headers) as r:
        media_id = (await r.json())["id"]
    async with http.get(f"{base}/sandbox/v23.0/{media_id}", headers=headers) as r:
        url = (await r.json())["url"]
    assert url.startswith(f"{base}/sandbox/media-download/")
    async with http.get(url, headers=headers) as r:
        assert await r.read() == b"%PDF-1.4"

    async with http.post(f"{base}/sandbox/_sandbox/clock/advance", json={"seconds": 5}) as r:
        assert r.status == 409  # only a FakeClock can be advanced

    async with http.get(f"{base}/sandbox/core/v1/tenants/bank-uji/step-ups?customer_id=cust-1&status=pending") as r:
        assert (await r.json())[0]["request_id"] == "su-1"
