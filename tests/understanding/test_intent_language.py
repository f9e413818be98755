from __future__ import annotations

import pytest

from loket.understanding.language import guess_language


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("sldo brp ya", "id"),
        ("kartu atm sy ilang!!", "id"),
        ("cek balance dong", "id"),
        ("minta rekening koran bulan lalu", "id"),
        ("is this really bank nusantara?", "en"),
        ("what is my balance", "en"),
        ("I lost my card, please block it", "en"),
        ("english please", "en"),
        ("bahasa indonesia", "id"),
        ("mau klaim asuransi mobil", "id"),
        ("ok", None),
        ("👍", None),
        ("", None),
        ("CMP-2026-000123", None),
    ],
)
def test_guess_language(text: str, language: str | None) -> None:
    assert guess_language(text) == language
