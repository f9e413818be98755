"""Rupiah amounts as customers type them: "Rp 250.000", "250rb", "1,5jt", "2 M", "seratus ribu".

Indonesian conventions first: "." groups thousands and "," marks decimals ("1.234.567,89"), and
"M" is *miliar* (10^9), not million. English grouping ("1,234,567.89") is recognised when the
grouping is unambiguous (three-digit groups). A bare number counts as an amount only with a currency
("Rp", "IDR", "rupiah"), a multiplier ("rb", "jt", "k", ...) or an amount word before it ("transfer",
"bayar", "sebesar", ...), so dates, phone numbers, card digits and ticket numbers are not amounts.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

MULTIPLIERS: dict[str, Decimal] = {
    "rb": Decimal(1000),
    "ribu": Decimal(1000),
    "rebu": Decimal(1000),
    "k": Decimal(1000),
    "jt": Decimal(10) ** 6,
    "juta": Decimal(10) ** 6,
    "jeti": Decimal(10) ** 6,
    "mio": Decimal(10) ** 6,
    "million": Decimal(10) ** 6,
    "m": Decimal(10) ** 9,
    "miliar": Decimal(10) ** 9,
    "milyar": Decimal(10) ** 9,
    "billion": Decimal(10) ** 9,
    "bn": Decimal(10) ** 9,
    "triliun": Decimal(10) ** 12,
    "trilyun": Decimal(10) ** 12,
    "trillion": Decimal(10) ** 12,
}

_CONTEXT_WORDS = (
    r"tf|trf|transfer(?:an|kan)?|bayar|membayar|pembayaran|sebesar|senilai|nominal|jumlah(?:nya)?|"
    r"harga(?:nya)?|total(?:nya)?|tarik|setor|setoran|kirim|limit|cicilan|tagihan|amount|pay|paid|payment|sent"
)
_NUMBER = r"\d{1,3}(?:\.\d{3})+(?:,\d{1,2})?|\d{1,3}(?:,\d{3})+(?:\.\d{1,2})?|\d+(?:[.,]\d{1,2})?"
_SUFFIX = "|".join(sorted(MULTIPLIERS, key=len, reverse=True))
_AMOUNT = re.compile(
    rf"(?P<currency>\b(?:rp|idr)\.?\s?)?"
    rf"(?<![\d/:-])(?<!\d[.,])(?P<number>{_NUMBER})(?![\d/:]|[.,]\d)"
    rf"(?:\s?(?P<suffix>{_SUFFIX})(?![a-z0-9]))?"
    rf"(?P<dash>,-)?(?:\s?(?P<trailing>rupiah|idr)\b)?",
    re.IGNORECASE,
)
_CONTEXT_WORD = re.compile(rf"\b(?:{_CONTEXT_WORDS})\b", re.IGNORECASE)
_CONTEXT_GAP = re.compile(r"[\s:]*(?:(?:ke|to|uang|dana|sebanyak)\s+)?", re.IGNORECASE)

_UNITS = {
    "nol": 0,
    "satu": 1,
    "dua": 2,
    "tiga": 3,
    "empat": 4,
    "lima": 5,
    "enam": 6,
    "tujuh": 7,
    "delapan": 8,
    "sembilan": 9,
}
_SE_SCALES = {"seribu": 10**3, "sejuta": 10**6, "semiliar": 10**9}
_SCALES = {"ribu": 10**3, "juta": 10**6, "miliar": 10**9, "milyar": 10**9, "triliun": 10**12}
_WORD = (
    r"(?:nol|satu|dua|tiga|empat|lima|enam|tujuh|delapan|sembilan|sepuluh|sebelas|seratus|seribu|sejuta|"
    r"semiliar|setengah|belas|puluh|ratus|ribu|juta|miliar|milyar|triliun)"
)
_WORDS = re.compile(rf"\b{_WORD}(?:\s+{_WORD})*\b", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Amount:
    value: Decimal  # in rupiah
    start: int
    end: int
    text: str
    explicit: bool  # a currency or multiplier was written, not only an amount word before it


def _number_value(raw: str) -> Decimal:
    if re.fullmatch(r"\d{1,3}(?:\.\d{3})+(?:,\d{1,2})?", raw):
        return Decimal(raw.replace(".", "").replace(",", "."))
    if re.fullmatch(r"\d{1,3}(?:,\d{3})+(?:\.\d{1,2})?", raw):
        return Decimal(raw.replace(",", ""))
    return Decimal(raw.replace(",", "."))


def _words_value(words: list[str]) -> Decimal | None:
    """Indonesian number words ("dua ratus lima puluh ribu") to a value; None without a scale word."""
    total = Decimal(0)
    group = Decimal(0)  # below the current scale, e.g. 250 in "dua ratus lima puluh ribu"
    part = Decimal(0)  # below a hundred
    scaled = False
    for word in words:
        if word in _UNITS:
            part += _UNITS[word]
        elif word == "setengah":
            part += Decimal("0.5")
        elif word == "sepuluh":
            part += 10
        elif word == "sebelas":
            part += 11
        elif word == "belas":
            part += 10
        elif word == "puluh":
            part = (part or Decimal(1)) * 10
        elif word == "ratus":
            group += (part or Decimal(1)) * 100
            part = Decimal(0)
        elif word == "seratus":
            group += 100
        elif word in _SE_SCALES:
            total += _SE_SCALES[word]
            scaled = True
        elif word in _SCALES:
            total += (group + part or 1) * _SCALES[word]
            group = part = Decimal(0)
            scaled = True
    return total + group + part if (scaled and len(words) > 1) or words[0] in _SE_SCALES else None


def _merge_adjacent(amounts: list[Amount], text: str) -> list[Amount]:
    """ "2 juta 500 ribu" and "1jt 250rb" are one amount: a larger unit followed by a smaller one."""
    merged: list[Amount] = []
    for amount in amounts:
        if merged:
            last = merged[-1]
            gap = text[last.end : amount.start]
            if last.explicit and amount.explicit and not gap.strip() and amount.value < _unit_of(last.value):
                merged[-1] = Amount(
                    last.value + amount.value, last.start, amount.end, text[last.start : amount.end], True
                )
                continue
        merged.append(amount)
    return merged


def _tidy(value: Decimal) -> Decimal:
    """Whole rupiah without exponent noise (250000, not 2.5E+5); fractions kept as written."""
    return value.quantize(Decimal(1)) if value == value.to_integral_value() else value.normalize()


def _unit_of(value: Decimal) -> Decimal:
    for scale in (Decimal(10) ** 12, Decimal(10) ** 9, Decimal(10) ** 6, Decimal(1000)):
        if value >= scale and value % scale == 0:
            return scale
    return Decimal(0)


def _after_amount_word(text: str, position: int, context_ends: list[int]) -> bool:
    """Whether an amount word ("transfer", "bayar", ...) comes right before `position`."""
    nearest = bisect.bisect_right(context_ends, position) - 1
    return nearest >= 0 and _CONTEXT_GAP.fullmatch(text, context_ends[nearest], position) is not None


def find_amounts(text: str) -> list[Amount]:
    found: list[Amount] = []
    context_ends = [word.end() for word in _CONTEXT_WORD.finditer(text)]
    for match in _AMOUNT.finditer(text):
        currency, suffix, trailing = match.group("currency"), match.group("suffix"), match.group("trailing")
        explicit = bool(currency or suffix or trailing or match.group("dash"))
        if not explicit and not _after_amount_word(text, match.start(), context_ends):
            continue
        number = match.group("number")
        if not explicit and (number.startswith("0") or len(re.sub(r"\D", "", number)) > 13):
            continue  # a phone number or a card/account number after "transfer", not an amount
        try:
            value = _number_value(number)
        except InvalidOperation:
            continue
        if suffix:
            value *= MULTIPLIERS[suffix.casefold()]
        found.append(Amount(_tidy(value), match.start(), match.end(), match.group(0), explicit))
    for match in _WORDS.finditer(text):
        words = match.group(0).casefold().split()
        spoken = _words_value(words)
        if spoken is not None and not any(a.start < match.end() and match.start() < a.end for a in found):
            found.append(Amount(_tidy(spoken), match.start(), match.end(), match.group(0), True))
    found.sort(key=lambda amount: amount.start)
    return _merge_adjacent(found, text)
