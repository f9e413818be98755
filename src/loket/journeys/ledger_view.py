"""Reading a customer's transactions for a journey: date ranges in the customer's zone, and lines."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime

from loket.core.port import Transaction
from loket.i18n.formatting import rupiah
from loket.journeys.defang import defang_text

HISTORY_DAYS = 90  # how far back "the last N transactions" look


def start_of(day: date, zone: str) -> datetime:
    return datetime.combine(day, time(), tzinfo=ZoneInfo(zone))


def local_day(moment: datetime, zone: str) -> date:
    return moment.astimezone(ZoneInfo(zone)).date()


def history_start(now: datetime, zone: str) -> datetime:
    return start_of(local_day(now, zone) - timedelta(days=HISTORY_DAYS), zone)


def locale(language: str) -> str:
    return "id_ID" if language == "id" else "en_GB"


def signed(amount: int) -> str:
    return rupiah(amount) if amount < 0 else "+" + rupiah(amount)


def line(language: str, zone: str, transaction: Transaction) -> str:
    when = format_datetime(transaction.posted_at.astimezone(ZoneInfo(zone)), "dd MMM HH.mm", locale=locale(language))
    return f"{when} · {defang_text(transaction.description)} · *{signed(transaction.amount)}*"


def day_range(language: str, start: date, end_exclusive: date) -> str:
    last = end_exclusive - timedelta(days=1)
    where = locale(language)
    if start == last:
        return format_date(start, "d MMM yyyy", locale=where)
    first = format_date(start, "d MMM" if start.year == last.year else "d MMM yyyy", locale=where)
    return f"{first} – {format_date(last, 'd MMM yyyy', locale=where)}"


def month_name(language: str, day: date) -> str:
    return format_date(day, "LLLL yyyy", locale=locale(language))


def totals(transactions: list[Transaction]) -> tuple[int, int]:
    """(money in, money out) as positive amounts."""
    money_in = sum(t.amount for t in transactions if t.amount > 0)
    money_out = -sum(t.amount for t in transactions if t.amount < 0)
    return money_in, money_out
