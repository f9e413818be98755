from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from loket.understanding.entities import (
    AccountRef,
    canonical_ticket,
    extract,
    find_accounts,
    find_links,
    find_phones,
    find_tickets,
)

NOW = datetime(2026, 11, 2, 3, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("blokir kartu kredit yang 1234", [("credit_card", "1234")]),
        ("kartu debit akhiran 9876", [("debit_card", "9876")]),
        ("kartu atm sy ilang", [("debit_card", None)]),
        ("blokir cc sekarang", [("credit_card", None)]),
        ("saldo tabungan dan giro", [("savings", None), ("current", None)]),
        ("bunga deposito", [("time_deposit", None)]),
        ("cicilan kta bulan ini", [("loan", None), ("loan", None)]),
        ("my credit card ending in 4321", [("credit_card", "4321")]),
        ("yang 5678 aja", [(None, "5678")]),
        ("rek ****1234", [(None, "1234")]),
        ("makasih kk", []),
        ("debit ganda", []),
    ],
)
def test_accounts(text: str, expected: list[tuple[str | None, str | None]]) -> None:
    assert [(ref.kind, ref.last4) for ref in find_accounts(text)] == expected


def test_account_span_covers_kind_and_digits() -> None:
    text = "tolong blokir kartu kredit saya yang 1234 ya"
    (ref,) = find_accounts(text)
    assert isinstance(ref, AccountRef)
    assert text[ref.span[0] : ref.span[1]] == "kartu kredit saya yang 1234"


@pytest.mark.parametrize(
    ("text", "reference", "kind"),
    [
        ("CMP-2026-000123 gimana", "CMP-2026-000123", "complaint"),
        ("status cmp 2026 123", "CMP-2026-000123", "complaint"),
        ("clm2026000321", "CLM-2026-000321", "claim"),
        ("BLK-2026-0001234", "BLK-2026-0001234", "card_block"),
        ("dsr-2027-000009", "DSR-2027-000009", "data_subject_request"),
    ],
)
def test_tickets(text: str, reference: str, kind: str) -> None:
    (ticket,) = find_tickets(text)
    assert (ticket.reference, ticket.kind) == (reference, kind)


def test_not_tickets() -> None:
    assert find_tickets("cmp-26-000123 ABC-2026-000123 xcmp-2026-000123") == []
    assert canonical_ticket("cmp", "2026", "7") == "CMP-2026-000007"


@pytest.mark.parametrize(
    ("text", "e164"),
    [
        ("apa nomor +62 811 1234 5678 punya bank?", ["+6281112345678"]),
        ("0811222333 itu nomor cs asli?", ["+62811222333"]),
        ("0812-3456-7890", ["+6281234567890"]),
        ("hubungi 0812.3456.7890 2 kali", ["+6281234567890"]),
        ("628123456789", ["+628123456789"]),
        ("62 812 3456 7890", ["+6281234567890"]),
        ("call center 021 500 123", ["+6221500123"]),
        ("+1 415 555 0100", ["+14155550100"]),
        ("0812 3456 7890 dan 0813 1111 2222", ["+6281234567890", "+6281311112222"]),
        ("transfer 150000", []),
        ("tgl 12-10-2026", []),
        ("CMP-2026-000123", []),
        ("4111 1111 1111 1111", []),
    ],
)
def test_phones(text: str, e164: list[str]) -> None:
    assert [phone.e164 for phone in find_phones(text)] == e164


@pytest.mark.parametrize(
    ("text", "hosts"),
    [
        ("bank-nusantara-promo.com punya kalian?", ["bank-nusantara-promo.com"]),
        ("cek https://bit.ly/abc123.", ["bit.ly"]),
        ("www.NusantaraBank-Online.net asli?", ["nusantarabank-online.net"]),
        ("verifikasi di nusantara-bank.co.id/login sekarang", ["nusantara-bank.co.id"]),
        ("cs@banknusantara-help.com email asli bukan", ["banknusantara-help.com"]),
        ("http://192.168.1.1/login", ["192.168.1.1"]),
        ("http://weird.zzz/x", ["weird.zzz"]),
        ("file surat tilang.apk", []),
        ("undangan.pdf", []),
        ("ok.makasih", []),
        ("Rp1.250.000", []),
    ],
)
def test_links(text: str, hosts: list[str]) -> None:
    assert [link.host for link in find_links(text)] == hosts


def test_link_keeps_what_was_written_without_trailing_punctuation() -> None:
    (link,) = find_links("buka https://bit.ly/Abc123!")
    assert link.url == "https://bit.ly/Abc123"
    (mail,) = find_links("email ke cs@bank.co.id ya")
    assert mail.url == "cs@bank.co.id"


def test_extract_everything_at_once() -> None:
    entities = extract("mutasi kartu kredit yang 1234 bulan lalu di atas Rp 1,5jt, CMP-2026-000123", NOW)
    assert [a.value for a in entities.amounts] == [Decimal(1_500_000)]
    assert [p.text for p in entities.periods] == ["bulan lalu"]
    assert [(r.kind, r.last4) for r in entities.accounts] == [("credit_card", "1234")]
    assert [t.reference for t in entities.tickets] == ["CMP-2026-000123"]
    assert entities.phones == () and entities.links == ()
