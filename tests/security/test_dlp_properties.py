"""Properties of the secret shield over generated input: every valid card is caught and never leaks;
ordinary amounts, dates and phone numbers are never mistaken for secrets."""

from __future__ import annotations

import re
from datetime import date

from hypothesis import given
from hypothesis import strategies as st

from loket.security.dlp import Kind, scan
from loket.security.dlp_rules import luhn_valid

# Issuer prefixes and lengths of real schemes: Visa, Mastercard (both series), Amex, JCB, Discover,
# UnionPay, and GPN-style domestic cards.
_SCHEMES = (
    ("4", 16),
    ("4", 13),
    ("4", 19),
    ("51", 16),
    ("55", 16),
    ("2221", 16),
    ("2720", 16),
    ("34", 15),
    ("37", 15),
    ("3528", 16),
    ("6011", 16),
    ("65", 16),
    ("62", 16),
    ("62", 19),
    ("9360", 16),
    ("9360", 18),
)
_SENTENCES = (
    "{}",
    "nomor kartu saya {} tolong cek",
    "ini kartu kredit sy: {}",
    "my card number is {} please help",
    "kartu {}, udah diblokir belum?",
    "{} itu kartu debit saya",
)


def _check_digit(partial: str) -> str:
    for digit in "0123456789":
        if luhn_valid(partial + digit):
            return digit
    raise AssertionError("unreachable")


@st.composite
def card_numbers(draw: st.DrawFn) -> str:
    prefix, length = draw(st.sampled_from(_SCHEMES))
    body = draw(st.text(alphabet="0123456789", min_size=length - len(prefix) - 1, max_size=length - len(prefix) - 1))
    partial = prefix + body
    return partial + _check_digit(partial)


@st.composite
def written_cards(draw: st.DrawFn) -> tuple[str, str]:
    digits = draw(card_numbers())
    style = draw(st.sampled_from(["plain", "space4", "dash4", "amex"]))
    if style == "plain" or (style == "amex" and len(digits) != 15):
        written = digits
    elif style == "amex":
        written = f"{digits[:4]} {digits[4:10]} {digits[10:]}"
    else:
        separator = " " if style == "space4" else "-"
        written = separator.join(digits[i : i + 4] for i in range(0, len(digits), 4))
    return digits, written


@given(written_cards(), st.sampled_from(_SENTENCES))
def test_every_valid_card_is_found_and_never_leaks(card: tuple[str, str], sentence: str) -> None:
    digits, written = card
    text = sentence.format(written)
    result = scan(text)
    assert Kind.CARD_NUMBER in result.kinds, text
    assert not re.search(r"\d", result.redacted), result.redacted
    assert digits[-4:] not in result.redacted


@given(card_numbers())
def test_a_wrong_check_digit_is_not_a_card(digits: str) -> None:
    wrong = digits[:-1] + str((int(digits[-1]) + 1) % 10)
    assert Kind.CARD_NUMBER not in scan(f"kartu {wrong}").kinds


def _indonesian(value: int) -> str:
    return f"{value:,}".replace(",", ".")


_AMOUNT_FORMS = (
    "transfer {plain}",
    "transfer {plain} ke adik",
    "tf {plain} kemarin",
    "saldo saya Rp {dots}",
    "Rp{dots},- sudah dibayar",
    "bayar tagihan {dots} rupiah",
    "kirim {plain} ya min",
    "tarik tunai {plain} di atm",
    "nominal {plain}",
    "total belanja IDR {commas}",
)


@given(st.integers(min_value=1, max_value=999_999_999_999), st.sampled_from(_AMOUNT_FORMS))
def test_amounts_are_never_secrets(value: int, form: str) -> None:
    text = form.format(plain=value, dots=_indonesian(value), commas=f"{value:,}")
    result = scan(text)
    assert result.findings == (), (text, result.findings)


@given(st.dates(min_value=date(1950, 1, 1), max_value=date(2099, 12, 31)), st.sampled_from(["/", "-", "."]))
def test_dates_are_never_secrets(day: date, separator: str) -> None:
    for text in (
        f"tgl {day.day:02d}{separator}{day.month:02d}{separator}{day.year}",
        f"mutasi {day.day} {day.strftime('%B')} {day.year}",
        f"transaksi tanggal {day.isoformat()} jam 10:30",
    ):
        assert scan(text).findings == (), text


@given(
    st.text(alphabet="0123456789", min_size=7, max_size=9), st.sampled_from(["0812", "0813", "0857", "0878", "+62 811"])
)
def test_phone_numbers_are_never_secrets(rest: str, prefix: str) -> None:
    groups = " ".join(rest[i : i + 4] for i in range(0, len(rest), 4))
    for text in (f"nomor saya {prefix}{rest}", f"hubungi {prefix} {groups}", f"wa ke {prefix}-{rest}"):
        assert scan(text).findings == (), text


@given(st.text(alphabet="0123456789", min_size=4, max_size=8))
def test_otp_in_context_is_always_redacted(code: str) -> None:
    for text in (f"kode OTP {code}", f"otp nya {code} min", f"verification code: {code}", f"kodenya {code} dari sms"):
        result = scan(text)
        assert result.kinds == {Kind.OTP}, text
        assert code not in result.redacted


@given(st.text(min_size=0, max_size=300))
def test_scan_never_fails_and_redaction_only_replaces_findings(text: str) -> None:
    result = scan(text)
    if not result.findings:
        assert result.redacted == text
    for finding in result.findings:
        assert 0 <= finding.start < finding.end <= len(text)
