"""The things journeys need from customer text besides the intent.

- Account and card references: "tabungan", "giro", "deposito", "kartu kredit", "kartu debit"/"atm",
  "pinjaman"/"kta", and last-four digits ("yang 1234", "akhiran 1234", "ending 1234", "**1234").
- Ticket numbers: `PREFIX-YYYY-NNNNNN`, where PREFIX names the kind (table below), YYYY is the year
  the ticket was opened and N is a zero-padded sequence of at least six digits. Customers drop the
  dashes, add spaces or write lower case; all are read back to the canonical form.
- Phone numbers in +62 / 62 / 08 form (or any +country form), as E.164 through `phonenumbers`.
- URLs and bare domains, with the host lower-cased (file names like "undangan.apk" are not domains).
- Amounts (`amounts.py`) and periods (`periods.py`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import phonenumbers

from loket.understanding.amounts import Amount, find_amounts
from loket.understanding.periods import DEFAULT_TIMEZONE, Period, find_periods

TICKET_KINDS: dict[str, str] = {
    "CMP": "complaint",
    "BLK": "card_block",
    "CLM": "claim",
    "DSR": "data_subject_request",
}
TICKET_DIGITS = 6

ACCOUNT_KINDS: tuple[tuple[str, str], ...] = (
    ("credit_card", r"kartu\s+kredit|credit\s*card|cc"),
    ("debit_card", r"kartu\s+(?:debit|atm)|debit\s*card|atm\s*card|atm"),
    ("savings", r"tabungan|savings?(?:\s+account)?|rekening\s+tabungan"),
    ("current", r"giro|current\s+account|checking(?:\s+account)?"),
    ("time_deposit", r"deposito|time\s+deposit"),
    ("loan", r"pinjaman|kta|kredit\s+tanpa\s+agunan|loan|cicilan|kpr"),
)
_ACCOUNT = re.compile("|".join(f"(?P<{kind}>\\b(?:{pattern})\\b)" for kind, pattern in ACCOUNT_KINDS), re.IGNORECASE)
_LAST4 = re.compile(
    r"(?:\b(?:yang|yg|akhiran|berakhiran|ujung(?:nya)?|belakang(?:nya)?|ending(?:\s+in|\s+with)?|ends\s+(?:in|with)"
    r"|last\s+4(?:\s+digits)?|no\.?|nomor|number)\s*:?\s*|[x*•.]{2,}\s?)(?P<digits>\d{4})\b(?![.,]\d)",
    re.IGNORECASE,
)
_TICKET = re.compile(r"\b(?P<prefix>cmp|blk|clm|dsr)[\s-]?(?P<year>20\d{2})[\s-]?(?P<seq>\d{3,8})\b", re.IGNORECASE)
_PHONE = re.compile(r"(?<![\w+.,/-])(?:\+\d|62|0)[\d\s.()-]{6,20}\d(?!\w)")
_PHONE_SEPARATORS = re.compile(r"[\s.()-]+")
_URL = re.compile(
    r"\b(?:https?://[^\s<>\"']+|www\.[^\s<>\"']+"
    r"|(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.){1,8}[a-z]{2,24}(?::\d{2,5})?(?:/[^\s<>\"']*)?)",
    re.IGNORECASE,
)
_FILE_EXTENSIONS = frozenset(
    "apk exe bat cmd scr msi jar pdf doc docx xls xlsx ppt pptx txt csv zip rar 7z jpg jpeg png gif mp3 mp4 mov".split()
)
# Top-level domains recognised without a scheme or "www.": the common generic ones, the cheap ones
# phishing favours, and the country codes our customers meet. With a scheme any TLD is a link.
_BARE_TLDS = frozenset(
    """
    com net org info biz xyz online site top app dev io co id me ly link click shop store website tech space live
    life club vip cc tk ml ga cf gq pw ws asia mobi pro icu buzz fun cloud digital email news today world win bid
    loan men work rest cam monster sbs cyou bond lol one best support help services center finance bank money
    my sg au uk us in jp kr cn hk tw th vn ph de fr nl ru br gov edu int ai gg tv to
    """.split()
)
_EMAIL_LOCAL = re.compile(r"[\w.+-]+@$")
_TRAILING_PUNCTUATION = ".,;:!?)]}'\""


@dataclass(frozen=True, slots=True)
class AccountRef:
    kind: str | None  # credit_card, debit_card, savings, current, time_deposit, loan; None for digits alone
    last4: str | None
    span: tuple[int, int]


@dataclass(frozen=True, slots=True)
class Ticket:
    reference: str  # canonical, e.g. CMP-2026-000123
    kind: str  # complaint, card_block, claim, data_subject_request
    span: tuple[int, int]


@dataclass(frozen=True, slots=True)
class Phone:
    e164: str
    span: tuple[int, int]


@dataclass(frozen=True, slots=True)
class Link:
    url: str  # as written, without trailing punctuation
    host: str  # lower-case, without "www." or port
    span: tuple[int, int]


@dataclass(frozen=True, slots=True)
class Entities:
    amounts: tuple[Amount, ...]
    periods: tuple[Period, ...]
    accounts: tuple[AccountRef, ...]
    tickets: tuple[Ticket, ...]
    phones: tuple[Phone, ...]
    links: tuple[Link, ...]


def find_accounts(text: str) -> list[AccountRef]:
    """Account kinds in order; a last-four reference attaches to the nearest kind before it."""
    refs: list[AccountRef] = []
    for match in _ACCOUNT.finditer(text):
        kind = match.lastgroup
        refs.append(AccountRef(kind, None, match.span()))
    for match in _LAST4.finditer(text):
        digits = match.group("digits")
        before = [ref for ref in refs if ref.span[1] <= match.start() and ref.last4 is None]
        if before and match.start() - before[-1].span[1] <= 24:
            ref = before[-1]
            refs[refs.index(ref)] = AccountRef(ref.kind, digits, (ref.span[0], match.end()))
        else:
            refs.append(AccountRef(None, digits, match.span("digits")))
    return sorted(refs, key=lambda ref: ref.span)


def canonical_ticket(prefix: str, year: str, sequence: str) -> str:
    return f"{prefix.upper()}-{year}-{sequence.zfill(TICKET_DIGITS)}"


def find_tickets(text: str) -> list[Ticket]:
    return [
        Ticket(
            canonical_ticket(match["prefix"], match["year"], match["seq"]),
            TICKET_KINDS[match["prefix"].upper()],
            match.span(),
        )
        for match in _TICKET.finditer(text)
    ]


def _valid_phone(raw: str, region: str) -> str | None:
    candidate = "+" + re.sub(r"\D", "", raw) if raw.startswith("62") else raw
    try:
        number = phonenumbers.parse(candidate, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def find_phones(text: str, region: str = "ID") -> list[Phone]:
    """Valid numbers only; a candidate that runs into other digits is shortened group by group."""
    phones: list[Phone] = []
    for match in _PHONE.finditer(text):
        raw = match.group(0)
        short_tail = re.search(r"[\s.()-]+\d{1,2}$", raw)
        if short_tail:  # "0812-3456-7890 2 kali": a lone digit after a phone number is not part of it
            raw = raw[: short_tail.start()]
        while True:
            e164 = _valid_phone(raw, region)
            if e164 is not None:
                phones.append(Phone(e164, (match.start(), match.start() + len(raw))))
                break
            cut = [m.start() for m in _PHONE_SEPARATORS.finditer(raw)]
            if not cut:
                break
            raw = raw[: cut[-1]]
    return phones


def find_links(text: str) -> list[Link]:
    """Links and bare domains; an e-mail address is reported whole, with its domain as the host."""
    links: list[Link] = []
    for match in _URL.finditer(text):
        start = match.start()
        if start > 0 and text[start - 1] == "@":
            local = _EMAIL_LOCAL.search(text, 0, start)
            start = local.start() if local else start
        url = text[start : match.end()].rstrip(_TRAILING_PUNCTUATION)
        with_scheme = url if "://" in url else "http://" + url.rpartition("@")[2]
        try:
            host = (urlsplit(with_scheme).hostname or "").casefold()
        except ValueError:
            continue
        tld = host.rsplit(".", 1)[-1]
        if not host or "." not in host or tld in _FILE_EXTENSIONS:
            continue
        if "://" not in url and not url.casefold().startswith("www.") and tld not in _BARE_TLDS:
            continue  # "ok.makasih" is a missing space, not a domain
        links.append(Link(url, host.removeprefix("www."), (start, start + len(url))))
    return links


def extract(text: str, now: datetime, timezone: str | ZoneInfo = DEFAULT_TIMEZONE, region: str = "ID") -> Entities:
    return Entities(
        amounts=tuple(find_amounts(text)),
        periods=tuple(find_periods(text, now, timezone)),
        accounts=tuple(find_accounts(text)),
        tickets=tuple(find_tickets(text)),
        phones=tuple(find_phones(text, region)),
        links=tuple(find_links(text)),
    )
