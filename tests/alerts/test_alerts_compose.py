"""Alert composition and preferences: pure functions, in both languages and every zone."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from loket.alerts.compose import Audience, DigestLine, digest, template_param, transaction_alert, update_alert
from loket.alerts.preferences import AlertPreferences, Route, route

POSTED = datetime(2026, 11, 30, 3, 15, tzinfo=UTC)


def alert(language: str, zone: str | None, **kwargs: object) -> tuple[str, dict[str, object]]:
    values: dict[str, object] = {
        "event_id": "e1",
        "direction": "debit",
        "amount": 1_250_000,
        "account": "•••• 1234",
        "description": "Pembayaran QRIS",
        "counterparty": "Toko Jaya",
        "balance_after": 8_420_500,
        "posted_at": POSTED,
    } | kwargs
    composed = transaction_alert(Audience(language, zone, "Bank Nusantara", "1500123"), **values)  # type: ignore[arg-type]
    payload = composed.message.to_payload()
    return str(payload["interactive"]["body"]["text"]), dict(
        composed.template.to_payload()
    ) if composed.template else {}  # type: ignore[index]


@pytest.mark.parametrize(
    ("zone", "shown"), [("Asia/Jakarta", "10.15 WIB"), ("Asia/Makassar", "11.15 WITA"), ("Asia/Jayapura", "12.15 WIT")]
)
def test_times_are_in_the_customers_zone(zone: str, shown: str) -> None:
    body, _ = alert("id", zone)
    assert shown in body


def test_an_indonesian_debit_alert_reads_naturally() -> None:
    body, template = alert("id", "Asia/Jakarta")
    assert body.startswith("💳 *Transaksi keluar* dari rekening •••• 1234")
    assert "Jumlah: *Rp1.250.000*" in body and "Tujuan: Toko Jaya" in body and "Saldo akhir: Rp8.420.500" in body
    assert "Ketuk *Bukan saya*" in body
    params = [p["text"] for p in template["template"]["components"][0]["parameters"]]  # type: ignore[index]
    assert params == [
        "keluar",
        "•••• 1234",
        "Rp1.250.000",
        "30 Nov 2026 10.15 WIB",
        "Pembayaran QRIS (Toko Jaya)",
        "Rp8.420.500",
    ]


def test_an_english_credit_alert_without_balance() -> None:
    body, template = alert("en", None, direction="credit", balance_after=None, counterparty=None)
    assert body.startswith("💰 *Money received* in account •••• 1234") and "Balance" not in body
    assert template["template"]["language"] == {"code": "en"}  # type: ignore[index]


def test_template_parameters_never_carry_new_lines_or_long_space_runs() -> None:
    assert template_param("a\nb\t c     d").text == "a b c d"
    assert template_param("   ").text == "-"
    composed = update_alert(Audience("id", None, "Bank", "1"), "📢 *Judul*\nIsi pemberitahuan")
    assert composed.template is not None
    composed.template.validate()


def test_the_digest_totals_signed_amounts() -> None:
    lines = [DigestLine(POSTED, "Parkir", -5_000), DigestLine(POSTED, "Cashback", 2_000)]
    composed = digest(Audience("id", "Asia/Jakarta", "Bank", "1"), lines)
    body = composed.message.to_payload()["text"]["body"]  # type: ignore[index]
    assert "2 transaksi, total -Rp3.000" in str(body)


@pytest.mark.parametrize(
    ("prefs", "kind", "amount", "status", "expected"),
    [
        (AlertPreferences(), "transaction", 10, None, Route.SEND),
        (AlertPreferences(), "balance", None, None, Route.SKIP),
        (AlertPreferences(min_amount=100), "transaction", 99, None, Route.SKIP),
        (AlertPreferences(digest_below=100), "transaction", 99, None, Route.DIGEST),
        (AlertPreferences(kinds=frozenset({"transaction"})), "loan", None, "approved", Route.SKIP),
        (AlertPreferences(kinds=frozenset()), "card", None, "blocked", Route.SEND),
    ],
)
def test_preferences(
    prefs: AlertPreferences, kind: str, amount: int | None, status: str | None, expected: Route
) -> None:
    assert route(prefs, kind, amount=amount, status=status) is expected


def test_bad_preferences_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown alert kinds"):
        AlertPreferences(kinds=frozenset({"lottery"}))
    with pytest.raises(ValueError, match="negative"):
        AlertPreferences(min_amount=-1)
