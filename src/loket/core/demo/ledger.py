"""Ninety days of an account's life: plausible postings with a consistent running balance."""

from __future__ import annotations

import calendar
import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, timezone

from loket.core.demo import catalog as cat
from loket.core.demo.people import POOLS, make_name
from loket.core.port import Transaction

INTEREST_TAX_THRESHOLD = 7_500_000  # interest on balances up to this is not taxed
INTEREST_TAX_RATE = 0.20
_MONTHS_ID = "Januari Februari Maret April Mei Juni Juli Agustus September Oktober November Desember".split()


@dataclass(frozen=True, slots=True)
class LedgerProfile:
    """How one account holder earns and spends; drawn by the generator."""

    utc_offset_hours: int
    opening_balance: int
    monthly_spend: int  # discretionary spending, rupiah a month
    interest_rate: float  # yearly
    admin_fee: int  # monthly
    salary: int = 0
    employer: str = ""
    side_income: int = 0  # monthly, arriving as transfers, for the self-employed
    operator: str = "Telkomsel"
    rent: int = 0
    bpjs: int = 0
    indihome: int = 0
    postpaid_pln: bool = False
    remittance: int = 0
    installment: int = 0  # monthly autodebit of a mortgage or car loan
    lender: str = ""
    subscriptions: tuple[int, ...] = ()  # indexes into catalog.SUBSCRIPTIONS
    cash_share: float = 0.2
    business_revenue: int = 0  # monthly; non-zero means a current (giro) account of a business
    business_name: str = ""


@dataclass(slots=True)
class _Posting:
    at: datetime  # local, aware
    amount: int
    description: str
    category: str
    counterparty: str | None = None
    mcc: str | None = None
    follow: list[_Posting] = field(default_factory=list)  # fees that only apply if this one posts
    # Amount and extra postings from the running balance, for interest and the tax on it.
    compute: Callable[[int, datetime], tuple[int, list[_Posting]]] | None = None


def build_ledger(
    rng: random.Random, *, account_id: str, number: str, profile: LedgerProfile, first: date, last: date
) -> tuple[list[Transaction], int]:
    """Postings on local days first..last inclusive, oldest first, and the closing balance."""
    zone = timezone(timedelta(hours=profile.utc_offset_hours))
    plan = _Planner(rng, zone, profile)
    day = first
    while day <= last:
        plan.day(day)
        day += timedelta(days=1)
    for year, month in _months(first, last):
        plan.month(year, month, first, last)
    return _post(plan.postings, account_id=account_id, number=number, opening=profile.opening_balance)


def _months(first: date, last: date) -> list[tuple[int, int]]:
    months: list[tuple[int, int]] = []
    y, m = first.year, first.month
    while (y, m) <= (last.year, last.month):
        months.append((y, m))
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return months


def payday(year: int, month: int, nominal: int = 25) -> date:
    """Payroll runs on the nominal day, or the Friday before when that falls on a weekend."""
    d = date(year, month, nominal)
    return d - timedelta(days=max(0, d.weekday() - 4))


def _post(postings: list[_Posting], *, account_id: str, number: str, opening: int) -> tuple[list[Transaction], int]:
    postings.sort(key=lambda p: p.at)
    balance = opening
    out: list[Transaction] = []
    previous: datetime | None = None
    queue = list(postings)
    i = 0
    while i < len(queue):
        p = queue[i]
        i += 1
        amount, follow = p.amount, p.follow
        if p.compute:
            amount, extra = p.compute(balance, p.at)
            follow = follow + extra
        if amount == 0 or balance + amount < 0:
            continue  # a debit the balance cannot cover is declined, so it never posts
        balance += amount
        posted_at = p.at.astimezone(UTC)
        if previous is not None and posted_at <= previous:
            posted_at = previous + timedelta(seconds=1)
        previous = posted_at
        out.append(
            Transaction(
                transaction_id=f"TX{number}{len(out) + 1:05d}",
                account_id=account_id,
                posted_at=posted_at,
                amount=amount,
                description=p.description,
                category=p.category,
                counterparty=p.counterparty,
                merchant_code=p.mcc,
                balance_after=balance,
            )
        )
        queue[i:i] = follow
    return out, balance


def _poisson(rng: random.Random, lam: float) -> int:
    limit, k, prod = math.exp(-lam), 0, rng.random()
    while prod > limit:
        k += 1
        prod *= rng.random()
    return k


def _price(rng: random.Random, low: int, high: int, step: int) -> int:
    # Skewed towards the cheap end, as real baskets are.
    raw = low + (high - low) * rng.random() ** 2
    return max(step, round(raw / step) * step)


def _rupiah(amount: int) -> str:
    return f"{amount:,}".replace(",", ".")


def _mean_price(merchants: tuple[cat.Merchant, ...]) -> float:
    total = sum(m.weight for m in merchants)
    return sum(m.weight * (m.low + (m.high - m.low) / 3) for m in merchants) / total


_QRIS_MEAN = _mean_price(cat.QRIS_MERCHANTS)
_CARD_MEAN = _mean_price(cat.CARD_MERCHANTS)
_EWALLET_MEAN = sum(cat.EWALLET_TOPUPS) / len(cat.EWALLET_TOPUPS)
_ATM_MEAN = 600_000
_TRANSFER_MEAN = 400_000


class _Planner:
    def __init__(self, rng: random.Random, zone: timezone, profile: LedgerProfile) -> None:
        self.rng = rng
        self.zone = zone
        self.p = profile
        self.postings: list[_Posting] = []
        self.daily = profile.monthly_spend / 30
        self.wallets = rng.sample(cat.EWALLETS, 2)
        self.friends = [self._person() for _ in range(6)]
        self.landlord = self._person()
        self.family = self._person()

    def _person(self) -> tuple[str, str]:
        pool = self.rng.choice(sorted(POOLS))
        age = self.rng.randint(20, 70)
        return make_name(self.rng, POOLS[pool], female=self.rng.random() < 0.5, age=age), self.rng.choice(
            cat.TRANSFER_BANKS
        )

    def _at(self, day: date, hours: tuple[int, int]) -> datetime:
        # Nothing before midnight is pushed past it when equal timestamps are spread a second apart.
        hour = self.rng.randrange(hours[0], min(hours[1], 23))
        clock = time(hour, self.rng.randrange(60), self.rng.randrange(60), tzinfo=self.zone)
        return datetime.combine(day, clock)

    def add(self, posting: _Posting) -> _Posting:
        self.postings.append(posting)
        return posting

    def fee(self, parent: _Posting, amount: int, description: str) -> None:
        parent.follow.append(_Posting(parent.at + timedelta(seconds=1), -amount, description, "fee"))

    def day(self, day: date) -> None:
        if self.p.business_revenue:
            self._business_day(day)
            return
        rng, daily = self.rng, self.daily
        # Big earners spend more per purchase, not more purchases a day.
        for _ in range(_poisson(rng, min(3.0, daily * 0.35 / _QRIS_MEAN))):
            m = rng.choices(cat.QRIS_MERCHANTS, weights=[m.weight for m in cat.QRIS_MERCHANTS])[0]
            amount = _price(rng, m.low, m.high, m.step)
            self.add(_Posting(self._at(day, m.hours), -amount, f"QRIS {m.name}", "qris", m.name, m.mcc))
        for _ in range(_poisson(rng, min(1.0, daily * 0.2 / _CARD_MEAN))):
            m = rng.choices(cat.CARD_MERCHANTS, weights=[m.weight for m in cat.CARD_MERCHANTS])[0]
            amount = _price(rng, m.low, m.high, m.step)
            self.add(_Posting(self._at(day, m.hours), -amount, m.descriptor, "card", m.name, m.mcc))
        if rng.random() < daily * 0.15 / _EWALLET_MEAN:
            wallet, topup = rng.choice(self.wallets), rng.choice(cat.EWALLET_TOPUPS)
            amount = topup + cat.EWALLET_ADMIN_FEE
            self.add(_Posting(self._at(day, (7, 23)), -amount, f"Top Up {wallet} {_rupiah(topup)}", "ewallet", wallet))
        if rng.random() < daily * self.p.cash_share / _ATM_MEAN:
            self._atm(day)
        if rng.random() < daily * 0.1 / _TRANSFER_MEAN:
            name, bank = rng.choice(self.friends)
            note = rng.choice(cat.TRANSFER_OUT_NOTES)
            amount = _price(rng, 50_000, 1_500_000, 5_000)
            self._transfer_out(self._at(day, (7, 23)), amount, name, bank, note)
        if rng.random() < 0.05:
            name, bank = rng.choice(self.friends)
            note = rng.choice(cat.TRANSFER_IN_NOTES)
            amount = _price(rng, 50_000, 1_200_000, 5_000)
            self._transfer_in(self._at(day, (7, 23)), amount, name, bank, note)
        if not self.p.postpaid_pln and rng.random() < 0.08:
            token = rng.choice(cat.PLN_TOKENS)
            self.add(
                _Posting(
                    self._at(day, (7, 23)),
                    -(token + cat.PLN_ADMIN_FEE),
                    f"Token PLN Prabayar {_rupiah(token)}",
                    "bill",
                    "PLN",
                    cat.MCC_UTILITIES,
                )
            )
        if rng.random() < 0.07:
            amount = rng.choice((25_000, 50_000, 75_000, 100_000, 150_000))
            self.add(
                _Posting(
                    self._at(day, (7, 23)),
                    -(amount + cat.BILL_ADMIN_FEE),
                    f"Pulsa/Paket Data {self.p.operator} {_rupiah(amount)}",
                    "bill",
                    self.p.operator,
                    cat.MCC_TELECOM,
                )
            )
        if self.p.side_income and rng.random() < 0.12:
            name, bank = rng.choice(self.friends)
            amount = _price(rng, self.p.side_income // 8, self.p.side_income // 2, 1_000)
            self._transfer_in(self._at(day, (8, 21)), amount, name, bank, "Pembayaran pesanan")

    def _atm(self, day: date) -> None:
        amount = self.rng.choice((100_000, 200_000, 300_000, 500_000, 500_000, 1_000_000, 1_500_000))
        if self.rng.random() < 0.35:
            network = self.rng.choice(cat.ATM_NETWORKS)
            p = self.add(_Posting(self._at(day, (6, 23)), -amount, f"Tarik Tunai {network}", "atm", network))
            self.fee(p, cat.ATM_NETWORK_FEE, f"Biaya Tarik Tunai {network}")
        else:
            self.add(_Posting(self._at(day, (6, 23)), -amount, "Tarik Tunai ATM Bank Nusantara", "atm"))

    def _transfer_out(self, at: datetime, amount: int, name: str, bank: str, note: str | None) -> None:
        suffix = f" - {note}" if note else ""
        p = self.add(_Posting(at, -amount, f"BI-FAST ke {bank}{suffix}", "transfer_out", name))
        self.fee(p, cat.BIFAST_FEE, "Biaya BI-FAST")

    def _transfer_in(self, at: datetime, amount: int, name: str, bank: str, note: str | None) -> None:
        suffix = f" - {note}" if note else ""
        self.add(_Posting(at, amount, f"BI-FAST dari {bank}{suffix}", "transfer_in", name))

    def month(self, year: int, month: int, first: date, last: date) -> None:
        p, rng = self.p, self.rng

        def inside(d: date) -> bool:
            return first <= d <= last

        pay = payday(year, month)
        if p.salary and inside(pay):
            amount = p.salary + (rng.randrange(0, p.salary // 10, 1_000) if rng.random() < 0.3 else 0)
            label = f"Gaji {_MONTHS_ID[month - 1]} {year}"
            self.add(_Posting(self._at(pay, (7, 10)), amount, f"{label} - {p.employer}", "salary", p.employer))
            if p.remittance:
                name, bank = self.family
                self._transfer_out(self._at(pay, (18, 22)), p.remittance, name, bank, "Kirim untuk orang tua")
        if p.business_revenue:
            self._business_month(year, month, inside)
        else:
            self._bills(year, month, inside)
        end = date(year, month, calendar.monthrange(year, month)[1])
        if inside(end):
            if p.admin_fee:
                at = datetime.combine(end, time(23, 0, tzinfo=self.zone))
                self.add(_Posting(at, -p.admin_fee, "Biaya Administrasi Bulanan", "fee"))
            at = datetime.combine(end, time(23, 30, tzinfo=self.zone))
            self.add(_Posting(at, 0, "Bunga", "interest", compute=self._interest))

    def _interest(self, balance: int, at: datetime) -> tuple[int, list[_Posting]]:
        interest = math.floor(balance * self.p.interest_rate / 12)
        if interest <= 0 or balance <= INTEREST_TAX_THRESHOLD:
            return interest, []
        tax = math.floor(interest * INTEREST_TAX_RATE)
        return interest, [_Posting(at + timedelta(seconds=1), -tax, "Pajak Bunga", "tax")]

    def _bills(self, year: int, month: int, inside: Callable[[date], bool]) -> None:
        p, rng = self.p, self.rng
        if p.rent and inside(d := date(year, month, rng.randint(1, 5))):
            name, bank = self.landlord
            self._transfer_out(self._at(d, (8, 21)), p.rent, name, bank, cat.RENT_NOTE)
        bills: list[tuple[int, str, str, str]] = []
        if p.bpjs:
            bills.append(
                (p.bpjs, f"Iuran BPJS Kesehatan {_MONTHS_ID[month - 1]}", "BPJS Kesehatan", cat.MCC_GOVERNMENT)
            )
        if p.indihome:
            bills.append((p.indihome, "Tagihan IndiHome", "Telkom IndiHome", cat.MCC_TELECOM))
        if p.postpaid_pln:
            bills.append((_price(rng, 180_000, 1_200_000, 1), "Tagihan PLN Pascabayar", "PLN", cat.MCC_UTILITIES))
        for amount, description, counterparty, mcc in bills:
            if inside(d := date(year, month, rng.randint(3, 10))):
                total = amount + cat.BILL_ADMIN_FEE
                self.add(_Posting(self._at(d, (7, 22)), -total, description, "bill", counterparty, mcc))
        if p.installment and inside(d := date(year, month, 5)):
            at = datetime.combine(d, time(6, 0, tzinfo=self.zone))
            self.add(_Posting(at, -p.installment, f"Autodebet Cicilan {p.lender}", "loan", p.lender))
        for index in p.subscriptions:
            name, mcc, amount, descriptor = cat.SUBSCRIPTIONS[index]
            if inside(d := date(year, month, 7 + index * 5)):
                self.add(_Posting(self._at(d, (0, 6)), -amount, descriptor, "card", name, mcc))

    def _business_day(self, day: date) -> None:
        rng, revenue = self.rng, self.p.business_revenue
        weekday_factor = 0.4 if day.weekday() == 6 else 1.0
        for _ in range(_poisson(rng, 1.2 * weekday_factor)):
            name, bank = rng.choice(self.friends)
            amount = _price(rng, revenue // 200, revenue // 25, 1_000)
            self._transfer_in(self._at(day, (8, 20)), amount, name, bank, "Pembayaran invoice")
        if day.weekday() == 4:
            amount = _price(rng, revenue // 20, revenue // 6, 50_000)
            self.add(_Posting(self._at(day, (10, 15)), amount, "Setoran Tunai Teller", "cash_deposit"))
        if day.weekday() < 5 and rng.random() < 0.5:
            supplier = rng.choice(cat.SUPPLIERS)
            amount = _price(rng, revenue // 60, revenue // 8, 1_000)
            self._transfer_out(self._at(day, (9, 17)), amount, supplier, rng.choice(cat.TRANSFER_BANKS), None)

    def _business_month(self, year: int, month: int, inside: Callable[[date], bool]) -> None:
        revenue, rng = self.p.business_revenue, self.rng
        pay = payday(year, month)
        if inside(pay):
            amount = _price(rng, revenue // 6, revenue // 4, 1_000)
            self.add(_Posting(self._at(pay, (8, 12)), -amount, "Payroll karyawan", "payroll", self.p.business_name))
        if inside(d := date(year, month, 15)):
            amount = _price(rng, revenue // 100, revenue // 40, 1_000)
            self.add(_Posting(self._at(d, (9, 16)), -amount, "Pembayaran Pajak DJP Online", "tax", "DJP", "9311"))
