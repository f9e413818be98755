"""The outbound engine on the production path: the events API, the policy gate, the dispatcher, the
sandbox's Cloud API (templates, faults, signed status webhooks) and the customer's taps coming back
through the inbox."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import orjson

from loket.config import Settings
from loket.core.demo.tenants import BANK_NUSANTARA
from loket.db.engine import Database
from loket.demo import access_token_for
from loket.events.endpoints import EndpointStore
from loket.events.signing import SIGNATURE_HEADER, TENANT_HEADER, signature_header
from loket.outbound.templates import DEFINITIONS, TemplateApi, store_templates
from loket.sandbox.settings import SandboxSettings
from loket.security.secretbox import SecretBox
from stack import Stack, relaxed_pair_rate, running_stack
from support import TEST_SCOPE

BANK = BANK_NUSANTARA.tenant_id
WABA = BANK_NUSANTARA.phone_number.waba_id


def quick_templates(conf: SandboxSettings) -> None:
    relaxed_pair_rate(conf)
    conf.template_approve_delay_seconds = 0.05


async def setup(stack: Stack) -> str:
    db = Database(stack.settings.effective_database_url, default_scope=TEST_SCOPE)
    try:
        secret = await EndpointStore(db, SecretBox(stack.settings.master_key_bytes)).rotate(BANK)
        api = TemplateApi(stack.settings.graph_api_url)
        token = access_token_for(BANK_NUSANTARA)
        results = await api.submit(WABA, token, DEFINITIONS)
        assert {r.outcome for r in results} == {"created"}, results
        await asyncio.sleep(0.3)  # the sandbox approves them
        listed = await api.fetch(WABA, token)
        assert {t["status"] for t in listed} == {"APPROVED"}
        await store_templates(db, WABA, listed, stack.core._clock.now())
    finally:
        await db.dispose()
    return secret


async def post(stack: Stack, secret: str, path: str, payload: Any) -> dict[str, Any]:
    body = orjson.dumps(payload)
    headers = {
        "Content-Type": "application/json",
        TENANT_HEADER: BANK,
        SIGNATURE_HEADER: signature_header(secret.encode(), int(time.time()), body),
    }
    async with stack.http.post(f"{stack.base}{path}", data=body, headers=headers) as resp:
        answer: dict[str, Any] = await resp.json()
        assert resp.status in (200, 202), answer
        return answer


async def wait_for(check: Callable[[], Any], timeout: float = 15.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = await check()
        if value or time.monotonic() > deadline:
            return value
        await asyncio.sleep(0.1)


async def account_of(stack: Stack, customer: dict[str, Any]) -> str:
    return (await stack.core.list_accounts(BANK, customer["customer_id"]))[0].account_id


def tx(customer: dict[str, Any], account_id: str, event_id: str) -> dict[str, Any]:
    return {
        "id": event_id,
        "type": "transaction.posted",
        "occurred_at": "2026-11-30T10:15:00+07:00",
        "customer_id": customer["customer_id"],
        "data": {
            "account_id": account_id,
            "transaction_id": f"T-{event_id}",
            "direction": "debit",
            "amount": 175_000,
            "description": "Transfer BI-FAST",
            "balance_after": 1_000_000,
        },
    }


async def test_outside_the_window_the_alert_is_the_template_and_bukan_saya_comes_back(settings: Settings) -> None:
    async with running_stack(settings, tune_sandbox=quick_templates) as stack:
        secret = await setup(stack)
        customer = stack.customer(BANK, language="id")
        await post(stack, secret, "/v1/events", tx(customer, await account_of(stack, customer), "stk-1"))
        [alert] = await stack.replies(customer, 1)
        assert alert["payload"]["type"] == "template"
        assert "Rp175.000" in alert["rendered"]["body"] and "BI-FAST" in alert["rendered"]["body"]
        await stack.say(customer, type="template_button", payload="alr:stk-1")
        out = await stack.replies(customer, 2)
        assert "laporan Anda sudah kami terima" in out[1]["payload"]["text"]["body"]


async def test_a_high_risk_confirmation_with_step_up_in_the_institutions_app(settings: Settings) -> None:
    async with running_stack(settings, tune_sandbox=quick_templates) as stack:
        secret = await setup(stack)
        customer = stack.customer(BANK, language="id")
        greeting = 0
        expires = time.time() + 600
        event = {
            "id": "stk-cfm",
            "type": "confirmation.requested",
            "occurred_at": "2026-11-30T10:16:00+07:00",
            "customer_id": customer["customer_id"],
            "data": {
                "amount": 25_000_000,
                "payee": "PT Sumber Makmur",
                "channel": "Internet banking",
                "expires_at": time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(expires)),
                "risk": "high",
            },
        }
        answer = await post(stack, secret, "/v1/events", event)
        confirmation_id = answer["outcome"]["confirmation_id"]
        out = await stack.replies(customer, greeting + 1)
        # The customer has not written: outside the window the request goes as the approved template,
        # its quick replies carrying the same ids as the interactive buttons.
        assert out[-1]["payload"]["type"] == "template" and "Rp25.000.000" in out[-1]["rendered"]["body"]
        await stack.say(customer, type="template_button", payload=f"cfm:{confirmation_id}:yes")
        out = await stack.replies(customer, greeting + 2)
        assert "setujui permintaan verifikasi" in out[-1]["payload"]["text"]["body"]

        async def pending() -> list[dict[str, Any]]:
            url = f"{stack.base}/sandbox/core/v1/tenants/{BANK}/step-ups?customer_id={customer['customer_id']}"
            async with stack.http.get(url) as resp:
                return list((await resp.json())["items"])

        [step_up] = await wait_for(pending)
        decision = f"{stack.base}/sandbox/core/v1/tenants/{BANK}/step-ups/{step_up['request_id']}/decision"
        async with stack.http.post(decision, json={"approve": True}) as resp:
            assert resp.status == 200
        out = await stack.replies(customer, greeting + 3, timeout=15)
        assert "sudah Anda konfirmasi" in out[-1]["payload"]["text"]["body"]
        body = b""
        stamp = int(time.time())
        headers = {TENANT_HEADER: BANK, SIGNATURE_HEADER: signature_header(secret.encode(), stamp, body)}
        async with stack.http.get(f"{stack.base}/v1/confirmations/{confirmation_id}", headers=headers) as resp:
            status = await resp.json()
        assert status["state"] == "confirmed" and status["evidence"]["meta_message_id"].startswith("wamid.")
        assert status["evidence"]["sent_as"] == "template" and status["evidence"]["reply_message_id"]


# The sandbox's 429 fault is Graph's app-level limit (code 4), which holds the number for a minute:
# its handling is covered in tests/outbound/test_outbound_errors.py, not here.
FAULTS = {
    "graph_5xx_probability": 0.2,
    "graph_timeout_probability": 0.05,
    "graph_timeout_seconds": 0.2,
    "duplicate_probability": 0.3,
    "reorder_window_seconds": 0.5,
}


async def test_faults_lose_nothing_and_duplicate_nothing(settings: Settings) -> None:
    async with running_stack(settings, tune_sandbox=quick_templates) as stack:
        secret = await setup(stack)
        async with stack.http.post(f"{stack.base}/sandbox/_sandbox/faults", json=FAULTS) as resp:
            assert resp.status == 200
        customers = [c for c in stack.summary["customers"] if c["tenant_id"] == BANK][:12]
        events = []
        for index, customer in enumerate(customers):
            account = await account_of(stack, customer)
            events += [tx(customer, account, f"f{index}-{n}") for n in range(3)]
        answer = await post(stack, secret, "/v1/events/batch", {"events": events})
        assert answer["accepted"] == 36

        async def sent() -> list[dict[str, Any]]:
            async with stack.http.get(f"{stack.base}/sandbox/_sandbox/sent") as resp:
                messages = [m for m in (await resp.json())["messages"] if m["payload"]["type"] == "template"]
            return messages if len(messages) >= 36 else []

        messages = await wait_for(sent, timeout=60)
        bodies = [m["rendered"]["body"] for m in messages]
        assert len(bodies) == 36, f"{len(bodies)} of 36 reached the phone"
        per_customer = {c["wa_id"]: sum(m["wa_id"] == c["wa_id"] for m in messages) for c in customers}
        assert set(per_customer.values()) == {3}, "each alert exactly once"
        db = Database(stack.settings.effective_database_url, default_scope=TEST_SCOPE)
        try:
            from sqlalchemy import func, select

            from loket.db.models import OutboxMessage

            async def settled() -> dict[str, int]:
                async with db.sessions() as session:
                    rows = await session.execute(
                        select(OutboxMessage.delivery_status, func.count())
                        .where(OutboxMessage.origin.like("event:%"))
                        .group_by(OutboxMessage.delivery_status)
                    )
                    counts = {str(k): int(v) for k, v in rows}
                return counts if counts.get("None", 0) == 0 else {}

            counts = await wait_for(settled, timeout=30)
            assert sum(counts.values()) == 36 and "None" not in counts, counts
        finally:
            await db.dispose()
