from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from loket.clock import FakeClock
from loket.core.demo import DemoCore, DemoData, StepUpClosed, UnknownTenant, normalise_phone
from loket.core.port import (
    CardKind,
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
START = datetime(2026, 11, 2, 3, 0, tzinfo=UTC)  # 10:00 in Jakarta


@pytest.fixture(scope="module")
def data() -> DemoData:
    return DemoCore.generate(FakeClock(START), seed=11).data


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


@pytest.fixture
def core(clock: FakeClock, data: DemoData) -> DemoCore:
    return DemoCore(data, clock)


async def _bank_customer(core: DemoCore) -> Customer:
    return (await core.customers(BANK))[0]


def _national(phone_e164: str) -> str:
    """+628123456789 written the way people type it: 0812-3456-789."""
    local = "0" + phone_e164[3:]
    return f"{local[:4]}-{local[4:8]}-{local[8:]}"


def test_demo_core_is_a_core_port(core: DemoCore) -> None:
    port: CorePort = core
    assert port is core


def test_generate_takes_as_of_from_the_clock_in_jakarta() -> None:
    late_evening_utc = FakeClock(datetime(2026, 11, 1, 18, 30, tzinfo=UTC))  # 01:30 on 2 Nov in Jakarta
    assert DemoCore.generate(late_evening_utc).data.as_of == date(2026, 11, 2)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("+6281234567890", "+6281234567890"),
        ("6281234567890", "+6281234567890"),
        ("081234567890", "+6281234567890"),
        ("0812-3456-7890", "+6281234567890"),
        ("+62 812 3456 7890", "+6281234567890"),
        ("+62 (0)812.3456.7890", "+6281234567890"),
        ("81234567890", "+6281234567890"),
        ("006281234567890", "+6281234567890"),
        ("+6591234567", "+6591234567"),
        ("halo", None),
        ("", None),
        ("+62", None),
    ],
)
def test_normalise_phone(raw: str, expected: str | None) -> None:
    assert normalise_phone(raw) == expected


async def test_lookup_by_phone_accepts_every_common_form(core: DemoCore) -> None:
    customer = await _bank_customer(core)
    e164 = customer.phone_e164
    for form in (e164, e164[1:], _national(e164), f"+62 {e164[3:6]} {e164[6:10]} {e164[10:]}"):
        assert await core.find_customer_by_phone(BANK, form) == customer, form
    assert await core.find_customer_by_phone(BANK, "+6280000000000") is None
    assert await core.find_customer_by_phone(BANK, "not a number") is None
    with pytest.raises(UnknownTenant):
        await core.find_customer_by_phone("bank-lain", e164)


async def test_customers_are_scoped_to_their_tenant(core: DemoCore) -> None:
    bank = {c.phone_e164: c for c in await core.customers(BANK)}
    insurer = {c.phone_e164: c for c in await core.customers(INSURER)}
    shared = set(bank) & set(insurer)
    assert shared
    phone = sorted(shared)[0]
    in_bank = await core.find_customer_by_phone(BANK, phone)
    in_insurer = await core.find_customer_by_phone(INSURER, phone)
    assert in_bank is not None and in_insurer is not None
    assert in_bank.customer_id != in_insurer.customer_id
    bank_only = sorted(set(bank) - set(insurer))[0]
    assert await core.find_customer_by_phone(INSURER, bank_only) is None
    with pytest.raises(NotFound):
        await core.get_customer(INSURER, in_bank.customer_id)
    with pytest.raises(NotFound):
        await core.list_accounts(BANK, "CIF00000000")
    names = [c.full_name for c in await core.customers(BANK)]
    assert names == sorted(names)


async def test_accounts_cards_and_policies(core: DemoCore) -> None:
    customer = await _bank_customer(core)
    accounts = await core.list_accounts(BANK, customer.customer_id)
    assert accounts and all(a.customer_id == customer.customer_id for a in accounts)
    cards = await core.list_cards(BANK, customer.customer_id)
    assert any(c.kind is CardKind.DEBIT and c.linked_account_id == accounts[0].account_id for c in cards)
    assert await core.list_policies(BANK, customer.customer_id) == []
    holder = (await core.customers(INSURER))[0]
    policies = await core.list_policies(INSURER, holder.customer_id)
    assert policies and all(p.customer_id == holder.customer_id for p in policies)
    assert await core.list_accounts(INSURER, holder.customer_id) == []


async def test_transactions_are_half_open_and_oldest_first(core: DemoCore) -> None:
    customer = await _bank_customer(core)
    account = (await core.list_accounts(BANK, customer.customer_id))[0]
    everything = await core.list_transactions(BANK, account.account_id, START - timedelta(days=365), START)
    assert len(everything) > 30
    assert [t.posted_at for t in everything] == sorted(t.posted_at for t in everything)
    assert everything[-1].balance_after == account.balance
    a, b = everything[5], everything[15]
    window = await core.list_transactions(BANK, account.account_id, a.posted_at, b.posted_at)
    assert window == everything[5:15]
    wib = timezone(timedelta(hours=7))
    same = await core.list_transactions(BANK, account.account_id, a.posted_at.astimezone(wib), b.posted_at)
    assert same == window
    assert await core.list_transactions(BANK, account.account_id, a.posted_at, a.posted_at) == []


async def test_transaction_queries_reject_bad_input(core: DemoCore) -> None:
    customer = await _bank_customer(core)
    account = (await core.list_accounts(BANK, customer.customer_id))[0]
    with pytest.raises(InvalidRequest):
        await core.list_transactions(BANK, account.account_id, datetime(2026, 10, 1), START)
    with pytest.raises(InvalidRequest):
        await core.list_transactions(BANK, account.account_id, START, START - timedelta(days=1))
    with pytest.raises(NotFound):
        await core.list_transactions(BANK, "ACC00000000", START - timedelta(days=1), START)
    with pytest.raises(NotFound):  # a real account, asked for under the wrong tenant
        await core.list_transactions(INSURER, account.account_id, START - timedelta(days=1), START)


async def test_blocking_a_card_is_idempotent(core: DemoCore, clock: FakeClock) -> None:
    customer = await _bank_customer(core)
    card = (await core.list_cards(BANK, customer.customer_id))[0]
    first = await core.block_card(BANK, card.card_id, "hilang")
    assert first.card_id == card.card_id
    assert first.reference.startswith("BLK-20261102-")
    assert first.blocked_at == START
    clock.advance(600)
    again = await core.block_card(BANK, card.card_id, "dicuri")
    assert again == first
    blocked = {c.card_id: c for c in await core.list_cards(BANK, customer.customer_id)}
    assert blocked[card.card_id].status is CardStatus.BLOCKED
    with pytest.raises(NotFound):
        await core.block_card(BANK, "CRD00000000", "hilang")
    with pytest.raises(NotFound):
        await core.block_card(INSURER, card.card_id, "hilang")


async def test_blocking_needs_a_reason(core: DemoCore) -> None:
    customer = await _bank_customer(core)
    card = (await core.list_cards(BANK, customer.customer_id))[0]
    with pytest.raises(InvalidRequest):
        await core.block_card(BANK, card.card_id, "  ")
    assert (await core.list_cards(BANK, customer.customer_id))[0].status is CardStatus.ACTIVE


async def test_holding_a_transaction_is_idempotent_and_scoped(core: DemoCore, clock: FakeClock) -> None:
    customer = await _bank_customer(core)
    account = (await core.list_accounts(BANK, customer.customer_id))[0]
    first = await core.hold_transaction(BANK, "TRX-PENDING-1", "bukan saya", account_id=account.account_id)
    assert (first.transaction_ref, first.account_id, first.held_at) == ("TRX-PENDING-1", account.account_id, START)
    assert first.reference.startswith("HLD-20261102-")
    clock.advance(60)
    assert await core.hold_transaction(BANK, "TRX-PENDING-1", "lagi") == first
    assert core.holds(BANK) == [first] and core.holds(INSURER) == []
    with pytest.raises(NotFound):
        await core.hold_transaction(BANK, "TRX-2", "bukan saya", account_id="ACC-NOPE")
    with pytest.raises(NotFound):
        await core.hold_transaction(INSURER, "TRX-3", "bukan saya", account_id=account.account_id)
    with pytest.raises(InvalidRequest):
        await core.hold_transaction(BANK, "TRX-4", "  ")
    with pytest.raises(InvalidRequest):
        await core.hold_transaction(BANK, "", "bukan saya")


async def test_a_posted_transaction_is_held_only_on_its_own_account(core: DemoCore) -> None:
    customer = await _bank_customer(core)
    accounts = await core.list_accounts(BANK, customer.customer_id)
    posted = (await core.list_transactions(BANK, accounts[0].account_id, START - timedelta(days=30), START))[-1]
    others = [a for a in core.data.accounts if a.account_id != posted.account_id]
    with pytest.raises(Conflict):
        await core.hold_transaction(BANK, posted.transaction_id, "bukan saya", account_id=others[0].account_id)
    held = await core.hold_transaction(BANK, posted.transaction_id, "bukan saya", account_id=posted.account_id)
    assert held.account_id == posted.account_id


async def test_step_up_expires_after_its_ttl(core: DemoCore, clock: FakeClock) -> None:
    customer = await _bank_customer(core)
    request = await core.request_step_up(BANK, customer.customer_id, "Blokir kartu debit", 120)
    assert request.status is StepUpStatus.PENDING
    assert request.created_at == START and request.expires_at == START + timedelta(seconds=120)
    clock.advance(119)
    assert (await core.get_step_up(BANK, request.request_id)).status is StepUpStatus.PENDING
    assert [r.request_id for r in await core.pending_step_ups(BANK)] == [request.request_id]
    clock.advance(1)
    expired = await core.get_step_up(BANK, request.request_id)
    assert expired.status is StepUpStatus.EXPIRED and expired.decided_at is None
    assert await core.pending_step_ups(BANK) == []
    with pytest.raises(StepUpClosed, match="expired"):
        await core.decide_step_up(BANK, request.request_id, approve=True)


async def test_step_up_is_decided_once(core: DemoCore, clock: FakeClock) -> None:
    customer = await _bank_customer(core)
    approve = await core.request_step_up(BANK, customer.customer_id, "Lihat mutasi rekening", 300)
    reject = await core.request_step_up(BANK, customer.customer_id, "Blokir kartu kredit", 300)
    clock.advance(30)
    approved = await core.decide_step_up(BANK, approve.request_id, approve=True)
    assert approved.status is StepUpStatus.APPROVED and approved.decided_at == START + timedelta(seconds=30)
    assert await core.get_step_up(BANK, approve.request_id) == approved
    rejected = await core.decide_step_up(BANK, reject.request_id, approve=False)
    assert rejected.status is StepUpStatus.REJECTED
    with pytest.raises(StepUpClosed, match="already approved") as caught:
        await core.decide_step_up(BANK, approve.request_id, approve=False)
    assert isinstance(caught.value, Conflict) and isinstance(caught.value, CoreError)
    assert not caught.value.retryable
    clock.advance(3600)
    assert (await core.get_step_up(BANK, approve.request_id)).status is StepUpStatus.APPROVED


async def test_pending_step_ups_filter_by_customer_and_tenant(core: DemoCore) -> None:
    first, second = (await core.customers(BANK))[:2]
    a = await core.request_step_up(BANK, first.customer_id, "Blokir kartu", 60)
    b = await core.request_step_up(BANK, second.customer_id, "Blokir kartu", 60)
    assert [r.request_id for r in await core.pending_step_ups(BANK)] == [a.request_id, b.request_id]
    assert [r.request_id for r in await core.pending_step_ups(BANK, first.customer_id)] == [a.request_id]
    assert await core.pending_step_ups(INSURER) == []
    with pytest.raises(NotFound):
        await core.get_step_up(INSURER, a.request_id)
    with pytest.raises(NotFound):
        await core.pending_step_ups(BANK, "CIF00000000")


async def test_step_up_requests_are_validated(core: DemoCore) -> None:
    customer = await _bank_customer(core)
    for ttl in (0, -5, 3600):
        with pytest.raises(InvalidRequest):
            await core.request_step_up(BANK, customer.customer_id, "Blokir kartu", ttl)
    with pytest.raises(InvalidRequest):
        await core.request_step_up(BANK, customer.customer_id, " ", 60)
    with pytest.raises(NotFound):
        await core.request_step_up(BANK, "CIF00000000", "Blokir kartu", 60)
    with pytest.raises(NotFound):
        await core.get_step_up(BANK, "SU-NOPE")
    with pytest.raises(NotFound):
        await core.decide_step_up(BANK, "SU-NOPE", approve=True)
