"""Insurer journeys as conversation scripts: policies, claim status, filing a claim (not yet on
WhatsApp: the bot says how), product information; and a bank-only journey refused politely."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from script_support import INSURER, Script, body_of, buttons_of, scripted_stack

from loket.config import Settings
from stack import Stack


@pytest.fixture
async def stack(settings: Settings) -> AsyncIterator[Stack]:
    async with scripted_stack(settings) as running:
        yield running


async def insurer_customer(stack: Stack, language: str, with_claims: bool) -> dict[str, Any]:
    for customer in stack.summary["customers"]:
        if customer["tenant_id"] != INSURER or customer["language"] != language:
            continue
        policies = await stack.core.list_policies(INSURER, customer["customer_id"])
        if any(p.claims for p in policies) == with_claims:
            return dict(customer)
    raise LookupError("no such demo customer")


async def test_policies_and_claims_in_indonesian(stack: Stack) -> None:
    customer = await insurer_customer(stack, "id", with_claims=True)
    policies = await stack.core.list_policies(INSURER, customer["customer_id"])
    script = Script(stack, customer)
    [listed] = await script.says("polis saya masih aktif?")
    assert all(policy.policy_number in body_of(listed) for policy in policies)
    [claims] = await script.says("klaim saya udah cair blm")
    body = body_of(claims)
    assert body.startswith("🧾 Klaim Anda:")
    for claim in (c for p in policies for c in p.claims):
        assert claim.claim_id in body
    [submit] = await script.says("mau klaim asuransi mobil")
    assert "Pengajuan klaim lewat WhatsApp akan segera hadir" in body_of(submit)


async def test_claims_in_english_and_products(stack: Stack) -> None:
    script = Script(stack, await insurer_customer(stack, "en", with_claims=True))
    [claims] = await script.says("what's the status of my claim?")
    assert body_of(claims).startswith("🧾 Your claims:")
    await script.says("menu")
    [products] = await script.taps("menu:products")
    assert [title for _, title in buttons_of(products)] == ["Car insurance", "Family health insurance"]
    [health] = await script.taps(buttons_of(products)[1][0])
    assert "Key facts (RIPLAY umum): Sejahtera Sehat Keluarga" in body_of(health)
    [question] = await script.says("premi asuransi mobil berapa?")
    assert body_of(question) == "Sorry, I want to be sure. Which one did you mean?"
    choices = {title: rid for rid, title in buttons_of(question)}
    [motor] = await script.taps(choices["Product info"])
    assert "Asuransi Mobil Sejahtera" in body_of(motor) and "Deductible" in body_of(motor)


async def test_a_bank_journey_is_not_offered_by_an_insurer(stack: Stack) -> None:
    script = Script(stack, await insurer_customer(stack, "id", with_claims=False))
    [refused, menu] = await script.says("cek saldo rekening saya", expect=2)
    assert "tidak tersedia di Asuransi Sejahtera" in body_of(refused)
    rows = [rid for rid, _ in buttons_of(menu)]
    assert "menu:policies" in rows and "menu:balance" not in rows
    [none] = await script.says("status klaim saya")
    assert "tidak menemukan klaim" in body_of(none)
