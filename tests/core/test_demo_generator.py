from __future__ import annotations

import os
import re
import subprocess
import sys
from collections import Counter, defaultdict
from datetime import date, timedelta
from zoneinfo import ZoneInfo

import pytest

from loket.core.demo import DEMO_TENANTS, DemoData, generate_demo_data
from loket.core.demo.generator import LEDGER_DAYS
from loket.core.demo.ledger import payday
from loket.core.demo.people import PROVINCE_ZONE
from loket.core.port import AccountKind, CardKind, Transaction

AS_OF = date(2026, 11, 2)
BANK, INSURER = "bank-nusantara", "asuransi-sejahtera"


@pytest.fixture(scope="module")
def data() -> DemoData:
    return generate_demo_data(as_of=AS_OF, seed=7)


@pytest.fixture(scope="module")
def ledgers(data: DemoData) -> dict[str, list[Transaction]]:
    by_account: dict[str, list[Transaction]] = defaultdict(list)
    for t in data.transactions:
        by_account[t.account_id].append(t)
    return by_account


def _zone_of(data: DemoData, customer_id: str) -> ZoneInfo:
    return ZoneInfo(next(c.timezone for c in data.customers if c.customer_id == customer_id))


def test_same_seed_and_date_give_identical_data(data: DemoData) -> None:
    again = generate_demo_data(as_of=AS_OF, seed=7)
    assert again == data
    assert again.digest() == data.digest()
    assert generate_demo_data(as_of=AS_OF, seed=8).digest() != data.digest()
    assert generate_demo_data(as_of=AS_OF + timedelta(days=1), seed=7).digest() != data.digest()


def test_data_does_not_depend_on_the_process_hash_seed(data: DemoData) -> None:
    script = (
        "from datetime import date; from loket.core.demo import generate_demo_data; "
        "print(generate_demo_data(as_of=date(2026, 11, 2), seed=7).digest())"
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, check=True)
    assert out.stdout.strip() == data.digest()


def test_customer_counts_and_shared_customers(data: DemoData) -> None:
    bank, insurer = data.customers_of(BANK), data.customers_of(INSURER)
    assert len(bank) == 38
    assert len(insurer) == 14
    shared = {c.phone_e164 for c in bank} & {c.phone_e164 for c in insurer}
    assert len(shared) == 4
    assert len({c.customer_id for c in data.customers}) == len(data.customers)
    for phone in shared:
        pair = [c for c in data.customers if c.phone_e164 == phone]
        assert pair[0].full_name == pair[1].full_name
        assert pair[0].customer_id != pair[1].customer_id
    assert {c.tenant_id for c in data.customers} == {t.tenant_id for t in DEMO_TENANTS}


def test_customers_look_indonesian_and_are_well_formed(data: DemoData) -> None:
    for c in data.customers:
        assert re.fullmatch(r"\+628\d{8,11}", c.phone_e164), c.phone_e164
        assert c.language in ("id", "en")
        assert c.timezone == PROVINCE_ZONE[c.province]
        assert 18 <= (AS_OF - c.date_of_birth).days // 365 <= 71
        assert len(c.full_name.split()) >= 1
        if c.email is not None:
            assert re.fullmatch(r"[a-z0-9._]+@example\.(com|net|org)", c.email), c.email
    for tenant in (BANK, INSURER):
        phones = [c.phone_e164 for c in data.customers_of(tenant)]
        assert len(set(phones)) == len(phones)
    english = sum(c.language == "en" for c in data.customers) / len(data.customers)
    assert 0.08 <= english <= 0.25


@pytest.mark.parametrize("seed", [1, 2, 3, 7, 99, 2026])
def test_every_institution_has_customers_in_every_time_zone(seed: int) -> None:
    data = generate_demo_data(as_of=AS_OF, seed=seed)
    for tenant in (BANK, INSURER):
        zones = Counter(c.timezone for c in data.customers_of(tenant))
        assert set(zones) == {"Asia/Jakarta", "Asia/Makassar", "Asia/Jayapura"}, (seed, tenant, zones)


def test_balance_chains_are_consistent(data: DemoData, ledgers: dict[str, list[Transaction]]) -> None:
    assert {a.account_id for a in data.accounts} == set(ledgers)
    for account in data.accounts:
        postings = ledgers[account.account_id]
        balance = postings[0].balance_after - postings[0].amount
        assert balance >= 0
        previous = None
        for t in postings:
            assert isinstance(t.amount, int) and t.amount != 0
            assert t.posted_at.tzinfo is not None
            assert previous is None or t.posted_at > previous
            balance += t.amount
            assert t.balance_after == balance
            assert balance >= 0, (account.account_id, t)
            previous = t.posted_at
        assert account.balance == balance
        assert 0 <= account.available_balance <= account.balance
        assert account.currency == "IDR"
    ids = [t.transaction_id for t in data.transactions]
    assert len(set(ids)) == len(ids)


def test_ledgers_cover_the_ninety_days_before_as_of(data: DemoData, ledgers: dict[str, list[Transaction]]) -> None:
    first, last = AS_OF - timedelta(days=LEDGER_DAYS), AS_OF - timedelta(days=1)
    seen: set[date] = set()
    for account in data.accounts:
        zone = _zone_of(data, account.customer_id)
        days = [t.posted_at.astimezone(zone).date() for t in ledgers[account.account_id]]
        assert first <= min(days) and max(days) <= last
        assert min(days) <= first + timedelta(days=7) and max(days) >= last - timedelta(days=7)
        seen.update(days)
    assert min(seen) == first and max(seen) == last


def test_salary_arrives_once_a_month_around_the_25th(data: DemoData, ledgers: dict[str, list[Transaction]]) -> None:
    first, last = AS_OF - timedelta(days=LEDGER_DAYS), AS_OF - timedelta(days=1)
    paydays = [payday(y, m) for y, m in ((2026, 8), (2026, 9), (2026, 10)) if first <= payday(y, m) <= last]
    salaried = 0
    for account in data.accounts:
        salaries = [t for t in ledgers[account.account_id] if t.category == "salary"]
        if not salaries:
            continue
        salaried += 1
        zone = _zone_of(data, account.customer_id)
        local = [t.posted_at.astimezone(zone) for t in salaries]
        assert [d.date() for d in local] == paydays
        assert all(23 <= d.day <= 25 and 7 <= d.hour < 10 for d in local)
        assert all(t.amount > 3_000_000 and t.counterparty for t in salaries)
        assert len({(d.year, d.month) for d in local}) == len(local)
    assert salaried >= 25


def test_ledgers_hold_the_usual_indonesian_postings(data: DemoData) -> None:
    categories = Counter(t.category for t in data.transactions)
    for category in ("salary", "qris", "card", "transfer_in", "transfer_out", "bill", "ewallet", "atm", "fee"):
        assert categories[category] > 0, category
    assert categories["interest"] > 0
    qris = [t for t in data.transactions if t.category == "qris"]
    assert all(t.merchant_code and re.fullmatch(r"\d{4}", t.merchant_code) and t.amount < 0 for t in qris)
    descriptions = " ".join(t.description for t in data.transactions)
    for word in ("Indomaret", "Alfamart", "BI-FAST", "Token PLN", "BPJS Kesehatan", "Top Up", "Tarik Tunai"):
        assert word in descriptions, word
    transfers = [t for t in data.transactions if t.category in ("transfer_in", "transfer_out")]
    assert all(t.counterparty for t in transfers)


def test_cards_and_current_accounts(data: DemoData) -> None:
    savings = [a for a in data.accounts if a.kind is AccountKind.SAVINGS]
    debit = {c.linked_account_id for c in data.cards if c.kind is CardKind.DEBIT}
    assert {a.account_id for a in savings} <= debit
    assert len(savings) == 38
    assert any(c.kind is CardKind.CREDIT for c in data.cards)
    assert all(re.fullmatch(r"\d{4} \*{4} \*{4} \d{4}", c.masked_number) for c in data.cards)
    assert any(a.kind is AccountKind.CURRENT for a in data.accounts)


def test_insurer_customers_have_policies_with_claims_in_every_status(data: DemoData) -> None:
    insured = {p.customer_id for p in data.policies}
    assert insured == {c.customer_id for c in data.customers_of(INSURER)}
    statuses = Counter(c.status for p in data.policies for c in p.claims)
    assert set(statuses) == {"submitted", "in_review", "approved", "paid", "rejected"}
    motor = [p for p in data.policies if p.kind == "motor"]
    assert motor and all(p.product_name == "Asuransi Mobil Sejahtera" for p in motor)
    assert all(re.search(r", [A-Z]{1,2} \d{1,4} [A-Z]{1,3}$", p.insured_object) for p in motor)
    for p in data.policies:
        assert p.start_date < p.end_date
        assert p.status in ("active", "lapsed")
        for claim in p.claims:
            assert p.start_date <= claim.submitted_on < AS_OF
            assert (claim.amount_approved is not None) == (claim.status in ("approved", "paid"))
            assert claim.amount_approved is None or 0 < claim.amount_approved <= claim.amount_claimed
