"""HttpCore against the demo core served by a real uvicorn server, and against a misbehaving one."""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta, timezone

import aiohttp
import pytest
import uvicorn
from aiohttp import web
from fastapi import FastAPI

from loket.clock import FakeClock
from loket.core.demo import DemoCore, DemoData
from loket.core.demo.api import build_core_router
from loket.core.http import HttpCore
from loket.core.port import (
    CardStatus,
    Conflict,
    CoreError,
    CorePort,
    Customer,
    InvalidRequest,
    NotFound,
    StepUpStatus,
)

BANK, INSURER = "bank-nusantara", "asuransi-sejahtera"
KEY = "demo-core-key"
START = datetime(2026, 11, 2, 3, 0, tzinfo=UTC)


def _free_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


@pytest.fixture(scope="module")
def data() -> DemoData:
    return DemoCore.generate(FakeClock(START), seed=5).data


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


@pytest.fixture
def demo(clock: FakeClock, data: DemoData) -> DemoCore:
    return DemoCore(data, clock)


@pytest.fixture
def base_url(demo: DemoCore) -> Iterator[str]:
    """The router mounted at /core, as the sandbox mounts it, in uvicorn on a background thread."""
    app = FastAPI()
    app.include_router(build_core_router(demo, api_key=KEY), prefix="/core")
    sock = _free_socket()
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_level="warning", lifespan="off", ws="none", loop="asyncio")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    for _ in range(500):
        if server.started:
            break
        threading.Event().wait(0.01)
    assert server.started
    yield f"http://127.0.0.1:{port}/core"
    server.should_exit = True
    thread.join(timeout=10)
    sock.close()


@pytest.fixture
async def core(base_url: str) -> AsyncIterator[HttpCore]:
    async with HttpCore(base_url, api_key=KEY, timeout_seconds=5) as http:
        yield http


@pytest.fixture
async def raw(base_url: str) -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {KEY}"}) as session:
        yield session


async def _bank_customer(demo: DemoCore) -> Customer:
    return (await demo.customers(BANK))[0]


def test_http_core_is_a_core_port() -> None:
    port: CorePort = HttpCore("http://127.0.0.1:9")
    assert isinstance(port, HttpCore)


async def test_every_read_round_trips(core: HttpCore, demo: DemoCore) -> None:
    customer = await _bank_customer(demo)
    cid = customer.customer_id
    assert await core.find_customer_by_phone(BANK, customer.phone_e164) == customer
    assert await core.find_customer_by_phone(BANK, "0" + customer.phone_e164[3:]) == customer
    assert await core.get_customer(BANK, cid) == customer
    accounts = await core.list_accounts(BANK, cid)
    assert accounts == await demo.list_accounts(BANK, cid)
    assert await core.list_cards(BANK, cid) == await demo.list_cards(BANK, cid)
    holder = (await demo.customers(INSURER))[0]
    policies = await core.list_policies(INSURER, holder.customer_id)
    assert policies and policies == await demo.list_policies(INSURER, holder.customer_id)


async def test_transactions_round_trip_with_any_offset(core: HttpCore, demo: DemoCore) -> None:
    customer = await _bank_customer(demo)
    account = (await demo.list_accounts(BANK, customer.customer_id))[0]
    everything = await demo.list_transactions(BANK, account.account_id, START - timedelta(days=100), START)
    start, end = everything[3].posted_at, everything[40].posted_at
    wib = timezone(timedelta(hours=7))
    got = await core.list_transactions(BANK, account.account_id, start.astimezone(wib), end)
    assert got == everything[3:40]
    assert all(t.posted_at.tzinfo is not None for t in got)
    with pytest.raises(InvalidRequest):
        await core.list_transactions(BANK, account.account_id, datetime(2026, 10, 1), START)


async def test_lookup_misses_and_unknown_ids(core: HttpCore, demo: DemoCore) -> None:
    assert await core.find_customer_by_phone(BANK, "+6280000000000") is None
    with pytest.raises(NotFound):
        await core.find_customer_by_phone("bank-lain", "+6281234567890")
    with pytest.raises(NotFound):
        await core.get_customer(BANK, "CIF00000000")
    with pytest.raises(NotFound):
        await core.list_accounts(BANK, "../../etc/passwd")
    with pytest.raises(NotFound):
        await core.block_card(BANK, "CRD00000000", "hilang")
    with pytest.raises(NotFound):
        await core.get_step_up(BANK, "SU-NOPE")


async def test_block_card_over_http_is_idempotent(core: HttpCore, demo: DemoCore, clock: FakeClock) -> None:
    customer = await _bank_customer(demo)
    card = (await demo.list_cards(BANK, customer.customer_id))[0]
    first = await core.block_card(BANK, card.card_id, "hilang")
    assert first.reference.startswith("BLK-") and first.blocked_at == START
    clock.advance(60)
    assert await core.block_card(BANK, card.card_id, "hilang lagi") == first
    assert (await core.list_cards(BANK, customer.customer_id))[0].status is CardStatus.BLOCKED


async def test_hold_transaction_over_http_is_idempotent(core: HttpCore, demo: DemoCore, clock: FakeClock) -> None:
    customer = await _bank_customer(demo)
    account = (await demo.list_accounts(BANK, customer.customer_id))[0]
    first = await core.hold_transaction(BANK, "TRX ÜBER-1", "bukan saya", account_id=account.account_id)
    assert first.reference.startswith("HLD-") and first.held_at == START and first.transaction_ref == "TRX ÜBER-1"
    clock.advance(60)
    assert await core.hold_transaction(BANK, "TRX ÜBER-1", "lagi") == first
    assert demo.holds(BANK) == [first]
    with pytest.raises(NotFound):
        await core.hold_transaction(BANK, "TRX-2", "bukan saya", account_id="ACC-NOPE")
    with pytest.raises(InvalidRequest):
        await core.hold_transaction(BANK, "TRX-3", "")


async def test_step_up_flow_with_the_institution_app(
    core: HttpCore, demo: DemoCore, raw: aiohttp.ClientSession, base_url: str, clock: FakeClock
) -> None:
    customer = await _bank_customer(demo)
    request = await core.request_step_up(BANK, customer.customer_id, "Blokir kartu debit", 120)
    assert request.status is StepUpStatus.PENDING and request.expires_at == START + timedelta(seconds=120)
    pane = f"{base_url}/v1/tenants/{BANK}/step-ups"
    async with raw.get(pane, params={"customer_id": customer.customer_id, "status": "pending"}) as r:
        assert r.status == 200
        assert [i["request_id"] for i in (await r.json())["items"]] == [request.request_id]
    async with raw.post(f"{pane}/{request.request_id}/decision", json={"approve": True}) as r:
        assert r.status == 200
        assert (await r.json())["status"] == "approved"
    decided = await core.get_step_up(BANK, request.request_id)
    assert decided.status is StepUpStatus.APPROVED and decided.decided_at == START
    async with raw.post(f"{pane}/{request.request_id}/decision", json={"approve": False}) as r:
        assert r.status == 409
        assert (await r.json())["error"]["code"] == "conflict"

    late = await core.request_step_up(BANK, customer.customer_id, "Lihat mutasi", 60)
    clock.advance(61)
    assert (await core.get_step_up(BANK, late.request_id)).status is StepUpStatus.EXPIRED
    async with raw.post(f"{pane}/{late.request_id}/decision", json={"approve": True}) as r:
        assert r.status == 409
        assert "expired" in (await r.json())["error"]["message"]


async def test_bad_requests_become_invalid_request(core: HttpCore, demo: DemoCore) -> None:
    customer = await _bank_customer(demo)
    with pytest.raises(InvalidRequest):
        await core.request_step_up(BANK, customer.customer_id, "Blokir kartu", 0)
    with pytest.raises(InvalidRequest):
        await core.request_step_up(BANK, customer.customer_id, "Blokir kartu", 86_400)
    with pytest.raises(InvalidRequest):
        await core.block_card(BANK, "CRD00000000", "")


async def test_error_bodies_have_the_documented_shape(raw: aiohttp.ClientSession, base_url: str) -> None:
    tenant = f"{base_url}/v1/tenants/{BANK}"
    async with raw.get(f"{tenant}/customers/CIF00000000") as r:
        assert r.status == 404
        body = await r.json()
        assert body["error"]["code"] == "not_found" and body["error"]["message"]
    async with raw.get(f"{base_url}/v1/tenants/nope/customers", params={"phone": "+628123"}) as r:
        assert r.status == 404
        assert (await r.json())["error"]["resource"] == "tenant"
    async with raw.get(f"{tenant}/accounts/ACC1/transactions", params={"start": "2026-10-01T00:00:00"}) as r:
        assert r.status == 422
        body = await r.json()
        assert body["error"]["code"] == "invalid_request" and "start" in body["error"]["message"]
    async with raw.post(f"{tenant}/step-ups", data=b"not json", headers={"Content-Type": "application/json"}) as r:
        assert r.status == 422
    async with raw.get(f"{tenant}/customers") as r:
        assert r.status == 200
        assert len((await r.json())["items"]) == 38
    async with raw.get(f"{tenant}/customers", params={"phone": "+6280000000000"}) as r:
        assert r.status == 404


async def test_wrong_key_is_refused_and_not_retryable(base_url: str) -> None:
    async with HttpCore(base_url, api_key="wrong") as core:
        with pytest.raises(CoreError) as caught:
            await core.get_customer(BANK, "CIF00000000")
    assert not caught.value.retryable and not isinstance(caught.value, NotFound)
    async with aiohttp.ClientSession() as session, session.get(f"{base_url}/v1/tenants/{BANK}/customers") as r:
        assert r.status == 401
        assert (await r.json())["error"]["code"] == "unauthorized"


# A core that misbehaves, to check the mapping of failures HttpCore cannot get from the demo.


@pytest.fixture
async def broken_url() -> AsyncIterator[str]:
    async def unavailable(_: web.Request) -> web.Response:
        return web.json_response({"error": {"code": "unavailable", "message": "maintenance"}}, status=503)

    async def crash(_: web.Request) -> web.Response:
        return web.Response(text="<html>Internal Server Error</html>", status=500, content_type="text/html")

    async def slow(_: web.Request) -> web.Response:
        await asyncio.sleep(2)
        return web.json_response({})

    async def garbage(_: web.Request) -> web.Response:
        return web.json_response({"customer_id": 1})

    async def plain_404(_: web.Request) -> web.Response:
        return web.Response(text="no such page", status=404)

    async def conflict(_: web.Request) -> web.Response:
        return web.json_response({"error": {"code": "conflict", "message": "busy"}}, status=409)

    async def throttled(_: web.Request) -> web.Response:
        return web.Response(status=429)

    app = web.Application()
    app.router.add_get("/v1/tenants/t/customers/unavailable", unavailable)
    app.router.add_get("/v1/tenants/t/customers/crash", crash)
    app.router.add_get("/v1/tenants/t/customers/slow", slow)
    app.router.add_get("/v1/tenants/t/customers/garbage", garbage)
    app.router.add_get("/v1/tenants/t/customers/plain404", plain_404)
    app.router.add_get("/v1/tenants/t/customers", plain_404)
    app.router.add_post("/v1/tenants/t/cards/busy/block", conflict)
    app.router.add_get("/v1/tenants/t/customers/throttled", throttled)
    runner = web.AppRunner(app, handler_cancellation=True)
    await runner.setup()
    sock = _free_socket()
    site = web.SockSite(runner, sock)
    await site.start()
    yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    await runner.cleanup()


@pytest.mark.parametrize("customer_id", ["unavailable", "crash", "slow", "throttled"])
async def test_server_trouble_is_retryable(broken_url: str, customer_id: str) -> None:
    async with HttpCore(broken_url, timeout_seconds=0.3) as core:
        with pytest.raises(CoreError) as caught:
            await core.get_customer("t", customer_id)
    assert caught.value.retryable and not isinstance(caught.value, NotFound)


async def test_unreachable_core_is_retryable() -> None:
    sock = _free_socket()
    port = sock.getsockname()[1]
    sock.close()  # nothing listens here now
    async with HttpCore(f"http://127.0.0.1:{port}", connect_timeout_seconds=0.5) as core:
        with pytest.raises(CoreError) as caught:
            await core.get_customer("t", "x")
    assert caught.value.retryable


async def test_odd_answers_are_typed(broken_url: str) -> None:
    async with HttpCore(broken_url) as core:
        with pytest.raises(CoreError) as malformed:
            await core.get_customer("t", "garbage")
        assert not malformed.value.retryable and "malformed" in str(malformed.value)
        with pytest.raises(NotFound):
            await core.get_customer("t", "plain404")
        assert await core.find_customer_by_phone("t", "+6281234567890") is None
        with pytest.raises(Conflict):
            await core.block_card("t", "busy", "hilang")


def test_paths_are_logged_without_their_identifiers() -> None:
    from loket.core.http import _shape

    shaped = _shape("/v1/tenants/bank-nusantara/accounts/1234567890/transactions")
    assert shaped == "/v1/tenants/bank-nusantara/accounts/{id}/transactions"
