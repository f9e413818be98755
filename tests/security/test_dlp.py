"""The secret shield on messages customers really send, in both languages."""

from __future__ import annotations

import itertools
import time

import pytest

from loket.security.dlp import MARKERS, Finding, Kind, redact, scan
from loket.security.dlp_rules import luhn_valid, nik_plausible


def kinds_and_secrets(text: str) -> list[tuple[str, str]]:
    return [(f.kind.value, text[f.start : f.end]) for f in scan(text).findings]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("kode OTP 123456", [("otp", "123456")]),
        ("otp nya 839201", [("otp", "839201")]),
        ("kodenya 1234 dari sms", [("otp", "1234")]),
        ("verification code 123456", [("otp", "123456")]),
        ("your code is 482913", [("otp", "482913")]),
        ("ini kode verifikasinya: 551 209", [("otp", "551 209")]),
        ("839201 itu kode otp nya", [("otp", "839201")]),
        ("<#> 839201 adalah kode OTP Anda. JANGAN BERIKAN kode ini", [("otp", "839201")]),
        ("angkanya 482913 dari sms", [("otp", "482913")]),
        ("pin saya 123456", [("pin", "123456")]),
        ("pin atm 1234", [("pin", "1234")]),
        ("PIN: 4321", [("pin", "4321")]),
        ("pinnya 908172 ya", [("pin", "908172")]),
        ("my pin is 5566", [("pin", "5566")]),
        ("1234 itu pin ku", [("pin", "1234")]),
        ("password: hunter2", [("password", "hunter2")]),
        ("my password is Hunter2!", [("password", "Hunter2!")]),
        ("pass: abc123", [("password", "abc123")]),
        ("sandi nya qwerty123", [("password", "qwerty123")]),
        ("kata sandi saya bungamawar", [("password", "bungamawar")]),
        ("password m-banking saya Rahasia99.", [("password", "Rahasia99")]),
        ("4111 1111 1111 1111", [("card_number", "4111 1111 1111 1111")]),
        ("kartu saya 5500-0000-0000-0004", [("card_number", "5500-0000-0000-0004")]),
        ("378282246310005", [("card_number", "378282246310005")]),
        ("4111-1111-1111-1111 exp 12/27 cvv 123", [("card_number", "4111-1111-1111-1111"), ("cvv", "123")]),
        ("4111111111111111 12/27 123", [("card_number", "4111111111111111"), ("cvv", "123")]),
        ("cvv 123", [("cvv", "123")]),
        ("CVC: 456", [("cvv", "456")]),
        ("cvv2 nya 7890", [("cvv", "7890")]),
        ("3 digit di belakang kartu 789", [("cvv", "789")]),
        ("kode keamanan 321", [("cvv", "321")]),
        ("nik saya 3171014509870001", [("nik", "3171014509870001")]),
        ("3171014509870001", [("nik", "3171014509870001")]),
        ("no rek 1234567890 pin 123456", [("account_number", "1234567890"), ("pin", "123456")]),
        ("transfer ke rek 0987654321, otp 445566", [("account_number", "0987654321"), ("otp", "445566")]),
        (
            "rekening 1234-567-890 user id budi88 password: Budi#2026",
            [
                ("account_number", "1234-567-890"),
                ("password", "Budi#2026"),
            ],
        ),
    ],
)
def test_secrets_found(text: str, expected: list[tuple[str, str]]) -> None:
    assert kinds_and_secrets(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "transfer 150000",
        "transfer 150000 ke rek 1234567890",
        "saldo saya Rp 1.250.000",
        "bayar cicilan Rp 1.500.000,- tiap bulan",
        "tgl 12/10/2026 jam 10:30",
        "mutasi 1-15 nov 2026",
        "0812 3456 7890",
        "+62 812 3456 7890",
        "hubungi 0812-3456-7890 kode promo ini",
        "kode pos 12345",
        "kode promo 123456",
        "kode bayar 123456 Rp 250.000",
        "zip code 94107",
        "kode tiket CMP-2026-000123",
        "CMP-2026-000123 gimana",
        "password saya lupa",
        "lupa password m-banking",
        "kata sandi saya salah terus",
        "password nya gimana cara ganti",
        "ganti pin atm",
        "pin 6 digit",
        "pinjam 500000",
        "otp 2x gagal",
        "otp tidak masuk dari tadi",
        "token listrik 1234 5678 9012 3456 7890",
        "4111 1111 1111 1112",
        "kartu yang 1234 mau diblokir",
        "",
        "halo min 🙏",
    ],
)
def test_not_secrets(text: str) -> None:
    result = scan(text)
    assert result.findings == (), result.findings
    assert result.redacted == text
    assert not result


def test_redacted_text_uses_neutral_markers() -> None:
    result = scan("kode OTP 123456, pin atm 1234, kartu 4111 1111 1111 1111")
    assert result.redacted == (
        "kode OTP [OTP disembunyikan], pin atm [PIN disembunyikan], kartu [nomor kartu disembunyikan]"
    )
    assert result.kinds == {Kind.OTP, Kind.PIN, Kind.CARD_NUMBER}
    assert set(MARKERS) == set(Kind)


def test_findings_do_not_overlap_and_carry_confidence() -> None:
    result = scan("nomor kartu 4111111111111111 cvv 123 pin 654321 otp 112233")
    spans = [finding.span for finding in result.findings]
    assert spans == sorted(spans)
    assert all(a[1] <= b[0] for a, b in itertools.pairwise(spans))
    assert all(0.0 < finding.confidence <= 1.0 for finding in result.findings)


def test_nik_with_context_is_more_certain_than_without() -> None:
    (bare,) = scan("3171014509870001").findings
    (named,) = scan("NIK: 3171014509870001").findings
    assert named.confidence > bare.confidence


def test_redact_is_usable_on_its_own() -> None:
    assert redact("ab 1234 cd", [Finding(Kind.PIN, 3, 7, 1.0)]) == "ab [PIN disembunyikan] cd"


def test_checks() -> None:
    assert luhn_valid("4111111111111111") and not luhn_valid("4111111111111112")
    assert nik_plausible("3171014509870001")
    assert not nik_plausible("0071014509870001")  # no province 00
    assert not nik_plausible("3171013213870001")  # month 13... and day 32
    assert not nik_plausible("3171014509870000")  # serial 0000


def test_fast_on_typical_messages() -> None:
    messages = [
        "halo min, saldo saya berapa ya?",
        "kartu atm sy ilang!! tolong blokir",
        "transfer 150000 ke rek 1234567890 kemarin kok belum masuk",
        "minta rekening koran bulan lalu dong",
        "kode OTP 123456",
    ] * 200
    scan(messages[0])
    started = time.perf_counter()
    for message in messages:
        scan(message)
    per_message = (time.perf_counter() - started) / len(messages)
    assert per_message < 200e-6  # typically 5-30 µs; generous for a loaded CI machine
