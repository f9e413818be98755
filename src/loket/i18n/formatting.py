"""Amounts as Rp1.234.567, account numbers masked, times in the customer's own zone (WIB/WITA/WIT)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from babel.dates import format_datetime
from babel.numbers import format_decimal

ZONE_ABBREVIATIONS = {
    "Asia/Jakarta": "WIB",
    "Asia/Pontianak": "WIB",
    "Asia/Makassar": "WITA",
    "Asia/Jayapura": "WIT",
}
DEFAULT_ZONE = "Asia/Jakarta"


def rupiah(amount: int) -> str:
    """Rp1.234.567 (whole rupiah; Indonesian digit grouping regardless of the message language)."""
    digits = format_decimal(abs(amount), format="#,##0", locale="id_ID")
    return f"-Rp{digits}" if amount < 0 else f"Rp{digits}"


def mask_account(number: str) -> str:
    """Only the last four digits, so a screenshot of the chat does not leak the account."""
    digits = "".join(ch for ch in number if ch.isdigit())
    return "•••• " + digits[-4:] if len(digits) > 4 else "••••"


def local_time(moment: datetime, zone: str | None, language: str) -> str:
    """`29 Nov 2026 17.05 WIB` in the customer's zone and language."""
    tz_name = zone if zone in ZONE_ABBREVIATIONS else DEFAULT_ZONE
    local = moment.astimezone(ZoneInfo(tz_name))
    locale = "id_ID" if language == "id" else "en_GB"
    text = format_datetime(local, "d MMM yyyy HH.mm" if language == "id" else "d MMM yyyy HH:mm", locale=locale)
    return f"{text} {ZONE_ABBREVIATIONS[tz_name]}"
