from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from loket.understanding.amounts import find_amounts


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("1,5jt", "1500000"),
        ("1.5 juta", "1500000"),
        ("Rp 250.000", "250000"),
        ("Rp250.000", "250000"),
        ("Rp.250.000", "250000"),
        ("IDR 250,000", "250000"),
        ("250rb", "250000"),
        ("250 ribu", "250000"),
        ("250k", "250000"),
        ("250K", "250000"),
        ("2 M", "2000000000"),
        ("2m", "2000000000"),
        ("1,5 M", "1500000000"),
        ("3 miliar", "3000000000"),
        ("Rp1.234.567,89", "1234567.89"),
        ("1,234,567.50 IDR", "1234567.50"),
        ("10.000,-", "10000"),
        ("150000 rupiah", "150000"),
        ("transfer 150000 ke adik", "150000"),
        ("bayar 75000", "75000"),
        ("seratus ribu", "100000"),
        ("dua ratus lima puluh ribu", "250000"),
        ("satu setengah juta", "1500000"),
        ("setengah juta", "500000"),
        ("sejuta", "1000000"),
        ("dua belas juta", "12000000"),
        ("2 juta 500 ribu", "2500000"),
        ("1jt 250rb", "1250000"),
        ("limit 50 juta", "50000000"),
    ],
)
def test_amounts(text: str, value: str) -> None:
    amounts = find_amounts(text)
    assert len(amounts) == 1, amounts
    assert amounts[0].value == Decimal(value)


def test_span_and_explicitness() -> None:
    text = "tolong transfer Rp 250.000 sama 2jt ya"
    first, second = find_amounts(text)
    assert text[first.start : first.end] == "Rp 250.000" == first.text
    assert first.explicit and second.explicit
    assert second.value == Decimal(2_000_000)
    (bare,) = find_amounts("transfer 150000")
    assert not bare.explicit


@pytest.mark.parametrize(
    "text",
    [
        "tgl 12/10/2026 jam 10:30",
        "0812 3456 7890",
        "transfer ke 081234567890",
        "rek 1234567890",
        "CMP-2026-000123",
        "5 menit lagi",
        "3 m2",
        "saldo 2026",
        "kartu yang 1234",
        "berapa ribu",
        "satu dua tiga",
        "4111 1111 1111 1111",
    ],
)
def test_not_amounts(text: str) -> None:
    assert find_amounts(text) == []


def _indonesian_grouping(value: int) -> str:
    return f"{value:,}".replace(",", ".")


@given(st.integers(min_value=1, max_value=10**12))
def test_any_rupiah_amount_reads_back(value: int) -> None:
    for written in (f"Rp {_indonesian_grouping(value)}", f"Rp{value}", f"IDR {value:,}", f"{value} rupiah"):
        (amount,) = find_amounts(f"mohon transfer {written} hari ini")
        assert amount.value == value, written


@given(st.integers(min_value=1, max_value=999), st.sampled_from([("rb", 10**3), ("jt", 10**6), ("M", 10**9)]))
def test_multipliers(number: int, suffix: tuple[str, int]) -> None:
    word, scale = suffix
    (amount,) = find_amounts(f"kirim {number}{word} dong")
    assert amount.value == number * scale
