"""The first conversation, over the real path: simulator -> signed webhook -> Loket -> sandbox."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from script_support import Script, body_of, fast

from loket.config import Settings
from loket.sandbox.settings import SandboxSettings
from stack import Stack, running_stack

BANK = "bank-nusantara"
INSURER = "asuransi-sejahtera"


@pytest.fixture
async def stack(settings: Settings) -> AsyncIterator[Stack]:
    async with running_stack(fast(settings)) as running:
        yield running


def texts(messages: list[dict[str, object]]) -> list[str]:
    out = []
    for message in messages:
        payload = message["payload"]
        assert isinstance(payload, dict)
        if payload["type"] == "text":
            out.append(payload["text"]["body"])
        elif payload["type"] == "interactive":
            out.append(payload["interactive"]["body"]["text"])
    return out


async def test_halo_gets_greeting_security_reminder_and_menu(stack: Stack) -> None:
    customer = stack.customer(BANK, language="id")
    pnid = stack.pnid(BANK)
    await stack.say(customer, type="text", text="halo")
    out = await stack.outbound(pnid, customer["wa_id"], 2)
    assert len(out) == 2
    greeting = out[0]["payload"]["text"]["body"]
    first_name = customer["name"].split()[0]
    assert f"Halo, {first_name}!" in greeting
    assert "Bank Nusantara" in greeting
    assert "tidak pernah meminta PIN" in greeting and "OTP" in greeting
    menu = out[1]["payload"]["interactive"]
    assert menu["type"] == "list"
    rows = [row["id"] for section in menu["action"]["sections"] for row in section["rows"]]
    assert "menu:balance" in rows
    assert out[0]["payload"]["biz_opaque_callback_data"].isdigit()


async def test_english_speaking_customer_gets_english(stack: Stack) -> None:
    customer = stack.customer(BANK, language="en")
    await stack.say(customer, type="text", text="hello")
    out = await stack.replies(customer, 2)
    assert "Welcome to the official WhatsApp service of *Bank Nusantara*" in out[0]["payload"]["text"]["body"]
    assert out[1]["payload"]["interactive"]["body"]["text"] == "How can we help you today?"


async def test_saldo_shows_masked_accounts_in_rupiah(stack: Stack) -> None:
    customer = stack.customer(BANK, language="id")
    accounts = await stack.core.list_accounts(BANK, customer["customer_id"])
    script = Script(stack, customer)
    [asked] = await script.says("sldo brp ya")
    assert "setujui permintaan verifikasi" in body_of(asked) and "Rp" not in body_of(asked)
    await script.approve_in_app()
    [shown] = await script.expect(1)  # the step-up watcher resumes the journey
    body = body_of(shown)
    for account in accounts:
        assert account.number not in body
        assert account.number[-4:] in body
        assert f"Rp{account.balance:,}".replace(",", ".") in body
    assert "WIB" in body or "WITA" in body or "WIT" in body


async def test_menu_tap_balance(stack: Stack) -> None:
    customer = stack.customer(BANK, language="en")
    script = Script(stack, customer)
    await script.says("menu")
    [asked] = await script.taps("menu:balance")
    assert "open the *Bank Nusantara* app" in body_of(asked)
    await script.approve_in_app()
    [shown] = await script.expect(1)
    assert body_of(shown).startswith("💰 Your account balances as of")


async def test_insurer_customer_sees_policies(stack: Stack) -> None:
    customer = stack.customer(INSURER)
    await stack.say(customer, type="text", text="polis saya")
    out = await stack.replies(customer, 1)
    body = out[0]["payload"]["text"]["body"]
    policies = await stack.core.list_policies(INSURER, customer["customer_id"])
    assert policies and all(p.policy_number in body for p in policies)


async def test_unknown_number_gets_public_services_only(stack: Stack) -> None:
    await stack.send("6289999000111", type="text", text="cek saldo", phone_number_id=stack.pnid(BANK))
    out = await stack.outbound(stack.pnid(BANK), "6289999000111", 1)
    body = out[0]["payload"]["text"]["body"]
    assert "belum terdaftar" in body
    assert "Rp" not in body


async def test_photo_gets_explanation_and_menu(stack: Stack) -> None:
    customer = stack.customer(BANK, language="id")
    await stack.say(customer, type="location", latitude=-6.2, longitude=106.8)
    out = await stack.replies(customer, 2)
    assert "lokasi" in out[0]["payload"]["text"]["body"]


async def test_ten_messages_in_a_second_are_answered_in_order(stack: Stack) -> None:
    customer = stack.customer(BANK, language="id")
    for index in range(10):
        await stack.say(customer, type="text", text="bantuan" if index % 2 else "menu")
    out = await stack.replies(customer, 10, timeout=20)
    kinds = [m["payload"]["type"] for m in out]
    assert kinds == ["interactive", "text"] * 5


def meta_pair_rate(conf: SandboxSettings) -> None:
    conf.pair_rate_interval_seconds = 0.5
    conf.pair_rate_burst = 3


async def test_burst_beyond_the_pair_rate_is_paced_not_lost(settings: Settings) -> None:
    """The sandbox answers 131056 past the pair rate; every reply still arrives, in order."""
    async with running_stack(settings, tune_sandbox=meta_pair_rate) as stack:
        customer = stack.customer(BANK, language="id")
        for index in range(6):
            await stack.say(customer, type="text", text="bantuan" if index % 2 else "menu")
        out = await stack.replies(customer, 6, timeout=30)
        assert [m["payload"]["type"] for m in out] == ["interactive", "text"] * 3
        async with stack.http.get(f"{stack.base}/metrics") as resp:
            metrics = await resp.text()
        assert 'loket_outbox_sent_total{outcome="wait"}' in metrics
