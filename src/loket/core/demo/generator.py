"""Deterministic demo data for the two demo institutions.

The same seed and `as_of` always give exactly the same customers, accounts, postings, cards and
policies: every draw comes from a `random.Random` seeded from them, never from the wall clock.
Ledgers cover the 90 local days before `as_of` (as_of itself excluded, so nothing is posted "later
today").
"""

from __future__ import annotations

import hashlib
import random
import re
from dataclasses import dataclass
from datetime import date, timedelta

from loket.core.demo import catalog as cat
from loket.core.demo import tenants as t
from loket.core.demo.insurance import attach_claims, build_policies
from loket.core.demo.ledger import LedgerProfile, build_ledger
from loket.core.demo.people import (
    EMAIL_DOMAINS,
    MOBILE_PREFIXES,
    POOL_QUOTAS,
    POOLS,
    PROVINCE_ZONE,
    UTC_OFFSET_HOURS,
    WIB,
    WIT,
    WITA,
    choose_province,
    make_name,
)
from loket.core.port import Account, AccountKind, Card, CardKind, CardStatus, Customer, Policy, Transaction

DEFAULT_SEED = 20261102
LEDGER_DAYS = 90
ENGLISH_SPEAKERS = 7  # of 48 people, about 15%
SHARED_CUSTOMERS = 4  # people who are customers of both institutions
INSURER_ONLY_CUSTOMERS = 10


@dataclass(frozen=True, slots=True)
class DemoData:
    seed: int
    as_of: date
    customers: tuple[Customer, ...]
    accounts: tuple[Account, ...]
    transactions: tuple[Transaction, ...]  # grouped by account, each account's oldest first
    cards: tuple[Card, ...]
    policies: tuple[Policy, ...]

    def customers_of(self, tenant_id: str) -> tuple[Customer, ...]:
        return tuple(c for c in self.customers if c.tenant_id == tenant_id)

    def digest(self) -> str:
        """A fingerprint of the whole data set; equal digests mean equal data."""
        return hashlib.sha256(repr(self).encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class _Person:
    pool: str
    full_name: str
    female: bool
    date_of_birth: date
    province: str
    language: str
    phone_e164: str
    operator: str
    email: str | None

    @property
    def zone(self) -> str:
        return PROVINCE_ZONE[self.province]


class _Ids:
    """Unique ids from the seeded generator, so they look arbitrary yet never change."""

    def __init__(self, rng: random.Random) -> None:
        self._rng = rng
        self._used: set[str] = set()

    def __call__(self, prefix: str, digits: int = 8) -> str:
        while True:
            candidate = f"{prefix}{self._rng.randrange(10 ** (digits - 1), 10**digits)}"
            if candidate not in self._used:
                self._used.add(candidate)
                return candidate


def generate_demo_data(*, as_of: date, seed: int = DEFAULT_SEED) -> DemoData:
    rng = random.Random(f"loket-demo:{seed}:{as_of.isoformat()}")
    ids = _Ids(random.Random(f"loket-demo-ids:{seed}"))
    people = _people(rng, as_of)
    shared, bank_only, insurer_only = _split(rng, people)

    customers: list[Customer] = []
    accounts: list[Account] = []
    transactions: list[Transaction] = []
    cards: list[Card] = []
    for person in _shuffled(rng, shared + bank_only):
        customer = _customer(person, t.BANK_NUSANTARA.tenant_id, ids("CIF"))
        customers.append(customer)
        ledger_rng = random.Random(f"loket-demo-ledger:{seed}:{as_of.isoformat()}:{customer.customer_id}")
        _bank_products(ledger_rng, person, customer, as_of, ids, accounts, transactions, cards)

    policies: list[Policy] = []
    policy_rng = random.Random(f"loket-demo-policies:{seed}:{as_of.isoformat()}")
    for person in _shuffled(rng, shared + insurer_only):
        customer = _customer(person, t.ASURANSI_SEJAHTERA.tenant_id, ids("PH", 7))
        customers.append(customer)
        policies.extend(build_policies(policy_rng, customer, as_of, ids))
    policies = attach_claims(policy_rng, policies, as_of, ids)

    return DemoData(
        seed=seed,
        as_of=as_of,
        customers=tuple(customers),
        accounts=tuple(accounts),
        transactions=tuple(transactions),
        cards=tuple(cards),
        policies=tuple(policies),
    )


def _shuffled(rng: random.Random, people: list[_Person]) -> list[_Person]:
    out = list(people)
    rng.shuffle(out)
    return out


def _people(rng: random.Random, as_of: date) -> list[_Person]:
    plan = [pool for pool, count in POOL_QUOTAS for _ in range(count)]
    english = set(rng.sample(range(len(plan)), ENGLISH_SPEAKERS))
    phones: set[str] = {tenant.phone_number.phone_e164 for tenant in t.DEMO_TENANTS}
    emails: set[str] = set()
    people: list[_Person] = []
    for index, pool_key in enumerate(plan):
        pool = POOLS[pool_key]
        age = rng.randint(19, 70) if rng.random() < 0.5 else rng.randint(24, 50)
        female = rng.random() < 0.5
        name = make_name(rng, pool, female=female, age=age)
        dob = as_of - timedelta(days=age * 365 + rng.randint(age // 4 + 1, age // 4 + 364))
        prefix, operator = rng.choice(MOBILE_PREFIXES)
        phone = ""
        while not phone or phone in phones:
            digits = rng.choice((7, 8))
            phone = f"+62{prefix}{rng.randrange(10 ** (digits - 1), 10**digits)}"
        phones.add(phone)
        people.append(
            _Person(
                pool=pool_key,
                full_name=name,
                female=female,
                date_of_birth=dob,
                province=choose_province(rng, pool),
                language="en" if index in english else "id",
                phone_e164=phone,
                operator=operator,
                email=_email(rng, name, dob, emails) if rng.random() < 0.85 else None,
            )
        )
    return people


def _email(rng: random.Random, name: str, dob: date, taken: set[str]) -> str:
    words = [w for w in re.sub(r"[^a-z ]", "", name.lower()).split() if w not in ("i", "ni", "andi")]
    first, last = words[0], words[-1]
    local = rng.choice(
        (f"{first}.{last}", f"{first}{last}{dob.year % 100:02d}", f"{first}_{last}", f"{first}{dob.year}")
    )
    domain = rng.choice(EMAIL_DOMAINS)
    address, n = f"{local}@{domain}", 1
    while address in taken:
        n += 1
        address = f"{local}{n}@{domain}"
    taken.add(address)
    return address


def _split(rng: random.Random, people: list[_Person]) -> tuple[list[_Person], list[_Person], list[_Person]]:
    """Shared, bank-only and insurer-only people; both institutions get customers in every zone."""
    by_zone = {zone: [p for p in people if p.zone == zone] for zone in (WIB, WITA, WIT)}
    shared = [rng.choice(group) for group in by_zone.values()]
    rest = [p for p in people if p not in shared]
    shared += rng.sample(rest, SHARED_CUSTOMERS - len(shared))
    rest = [p for p in people if p not in shared]
    insurer_only = rng.sample(rest, INSURER_ONLY_CUSTOMERS)
    bank_only = [p for p in rest if p not in insurer_only]
    return shared, bank_only, insurer_only


def _customer(person: _Person, tenant_id: str, customer_id: str) -> Customer:
    return Customer(
        customer_id=customer_id,
        tenant_id=tenant_id,
        full_name=person.full_name,
        phone_e164=person.phone_e164,
        language=person.language,
        province=person.province,
        timezone=person.zone,
        date_of_birth=person.date_of_birth,
        email=person.email,
    )


def _monthly_income(rng: random.Random) -> int:
    tier = rng.random()
    if tier < 0.55:
        return rng.randint(3_500_000, 8_000_000)
    if tier < 0.85:
        return rng.randint(8_000_000, 18_000_000)
    return rng.randint(18_000_000, 45_000_000)


def _bank_products(
    rng: random.Random,
    person: _Person,
    customer: Customer,
    as_of: date,
    ids: _Ids,
    accounts: list[Account],
    transactions: list[Transaction],
    cards: list[Card],
) -> None:
    first, last = as_of - timedelta(days=LEDGER_DAYS), as_of - timedelta(days=1)
    age = (as_of - person.date_of_birth).days // 365
    self_employed = rng.random() < 0.1
    income = _monthly_income(rng)
    priority = income >= 18_000_000
    offset = UTC_OFFSET_HOURS[person.zone]
    has_loan = income >= 12_000_000 and rng.random() < 0.5
    loan = rng.choice(cat.LOANS)
    cash_share = {WIB: 0.15, WITA: 0.22, WIT: 0.3}[person.zone] + rng.uniform(-0.05, 0.05)
    profile = LedgerProfile(
        utc_offset_hours=offset,
        opening_balance=int(income * rng.uniform(0.2, 2.5)) + (rng.randint(50, 500) * 1_000_000 if priority else 0),
        monthly_spend=int(income * rng.uniform(0.55, 0.85)),
        interest_rate=0.0125 if priority else 0.005,
        admin_fee=0 if priority else 12_500,
        salary=0 if self_employed else income,
        employer="" if self_employed else rng.choice(cat.EMPLOYERS),
        side_income=income if self_employed else 0,
        operator=person.operator,
        rent=rng.randrange(800_000, 3_500_000, 50_000) if age < 35 and rng.random() < 0.5 else 0,
        bpjs=rng.choice(cat.BPJS_CLASS_FEES) * rng.randint(1, 4) if rng.random() < 0.6 else 0,
        indihome=rng.randrange(285_000, 550_000, 5_000) if rng.random() < 0.4 else 0,
        postpaid_pln=rng.random() < 0.25,
        remittance=min(income // 5, rng.randrange(500_000, 2_500_000, 100_000)) if rng.random() < 0.35 else 0,
        installment=int(income * rng.uniform(0.2, 0.35)) // 1_000 * 1_000 if has_loan else 0,
        lender=loan,
        subscriptions=tuple(i for i in range(len(cat.SUBSCRIPTIONS)) if rng.random() < 0.25),
        cash_share=cash_share,
    )
    savings = _account(rng, ids, customer, AccountKind.SAVINGS, t.BN_SAVINGS_PRIORITY if priority else t.BN_SAVINGS)
    _open(rng, savings, profile, first, last, accounts, transactions, minimum=0 if priority else 50_000)
    cards.append(
        Card(
            card_id=ids("CRD"),
            customer_id=customer.customer_id,
            kind=CardKind.DEBIT,
            masked_number=f"{'5421' if priority else '5264'} **** **** {rng.randrange(10_000):04d}",
            product_name=t.BN_DEBIT_CARD,
            status=CardStatus.ACTIVE,
            linked_account_id=savings.account_id,
        )
    )
    if (income >= 8_000_000 and rng.random() < 0.5) or (priority and rng.random() < 0.8):
        platinum = income >= 20_000_000
        cards.append(
            Card(
                card_id=ids("CRD"),
                customer_id=customer.customer_id,
                kind=CardKind.CREDIT,
                masked_number=f"{'5412' if platinum else '4512'} **** **** {rng.randrange(10_000):04d}",
                product_name=t.BN_CREDIT_PLATINUM if platinum else t.BN_CREDIT_GOLD,
                status=CardStatus.ACTIVE,
            )
        )
    if rng.random() < 0.15:
        family = customer.full_name.split()[-1]
        revenue = rng.randrange(30_000_000, 400_000_000, 1_000_000)
        business = rng.choice((f"CV {family} {rng.choice(cat.BUSINESS_SUFFIXES)}", f"UD {family} Jaya"))
        business_profile = LedgerProfile(
            utc_offset_hours=offset,
            opening_balance=int(revenue * rng.uniform(0.3, 1.0)),
            monthly_spend=0,
            interest_rate=0.01,
            admin_fee=30_000,
            business_revenue=revenue,
            business_name=business,
        )
        current = _account(rng, ids, customer, AccountKind.CURRENT, t.BN_CURRENT)
        _open(rng, current, business_profile, first, last, accounts, transactions, minimum=0)


def _account(rng: random.Random, ids: _Ids, customer: Customer, kind: AccountKind, product: str) -> Account:
    lead = "1" if kind is AccountKind.SAVINGS else "7"
    return Account(
        account_id=ids("ACC"),
        customer_id=customer.customer_id,
        kind=kind,
        number=f"{lead}{ids('', 9)}",
        product_name=product,
        currency="IDR",
        balance=0,
        available_balance=0,
    )


def _open(
    rng: random.Random,
    account: Account,
    profile: LedgerProfile,
    first: date,
    last: date,
    accounts: list[Account],
    transactions: list[Transaction],
    *,
    minimum: int,
) -> None:
    postings, closing = build_ledger(
        rng, account_id=account.account_id, number=account.number, profile=profile, first=first, last=last
    )
    transactions.extend(postings)
    # Savings keep a minimum balance the customer cannot withdraw.
    available = max(0, closing - minimum)
    accounts.append(
        Account(
            account_id=account.account_id,
            customer_id=account.customer_id,
            kind=account.kind,
            number=account.number,
            product_name=account.product_name,
            currency=account.currency,
            balance=closing,
            available_balance=available,
        )
    )
