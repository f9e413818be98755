from __future__ import annotations

import pytest

from loket.understanding.normalise import GENERIC_EMOJI, normalise


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("sldo brp ya", "saldo berapa ya"),
        ("kartu atm sy ilang!!", "kartu atm saya hilang !"),
        ("TOLONGGGG", "tolong"),
        ("halooo adminnn", "halo admin"),
        ("gak bisa login", "tidak bisa login"),
        ("gamau", "tidak mau"),
        ("dgn utk yg", "dengan untuk yang"),
        ("min, mau komplain", "admin mau komplain"),
        ("makasih 🙏", "makasih emojipray"),
        ("👍", "emojiyes"),
        ("🦄", GENERIC_EMOJI),
        ("transfer 1.500.000", "transfer numtoken"),
        ("CMP-2026-000123 gmn", "ticketcmp gimana"),
        ("clm 2026 000321", "ticketclm"),
        ("nomor 0812-3456-7890 asli?", "nomor phonetoken asli ?"),
        ("cek bank-nusantara-promo.com", "cek linktoken"),
        ("https://bit.ly/xyz ini apa", "linktoken ini apa"),
        ("", ""),
    ],
)
def test_normalise(text: str, expected: str) -> None:
    assert normalise(text) == expected


def test_normalise_is_idempotent_on_its_own_output() -> None:
    for text in ("sldo brp ya", "Kartu ATM sy ILANG!!! 😭", "e-statement okt 2026"):
        once = normalise(text)
        assert normalise(once) == once


def test_keeps_double_letters_and_combining_marks_do_not_break_words() -> None:
    assert normalise("maaf") == "maaf"
    assert normalise("caf\u0065\u0301 👍🏽") == normalise("café 👍")
