"""Official-channel registry checks, scam signals, and every bot text against the policy gate."""

from __future__ import annotations

import tomllib
from datetime import UTC, datetime
from pathlib import Path

import pytest

from loket.conversation.turn import MediaView
from loket.core.demo.tenants import ASURANSI_SEJAHTERA, BANK_NUSANTARA
from loket.demo import tenant_spec
from loket.journeys.defang import defang_text
from loket.journeys.registry_check import LOOKALIKE, OFFICIAL, UNKNOWN, Registry, check_text
from loket.journeys.scam_signals import analyse
from loket.outbound.facts import link_domains
from loket.outbound.policy_content import OutgoingContent, content_problem
from loket.understanding import extract

NOW = datetime(2026, 11, 16, 3, 0, tzinfo=UTC)
BANK = Registry.of(tenant_spec(BANK_NUSANTARA).official_channels, "Bank Nusantara")


def verdicts(text: str) -> list[tuple[str, str]]:
    return [(c.value, c.verdict) for c in check_text(BANK, text, extract(text, NOW))]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("banknusantara.co.id", [("banknusantara.co.id", OFFICIAL)]),
        ("https://ib.banknusantara.co.id/login", [("ib.banknusantara.co.id", OFFICIAL)]),
        ("bank-nusantara-promo.com", [("bank-nusantara-promo.com", LOOKALIKE)]),
        ("banknusantara.co.id.verify.me", [("banknusantara.co.id.verify.me", LOOKALIKE)]),
        ("banknusantra.co.id", [("banknusantra.co.id", LOOKALIKE)]),
        ("bankn0santara.com", [("bankn0santara.com", LOOKALIKE)]),
        ("tokopedia.com", [("tokopedia.com", UNKNOWN)]),
        ("+62 811-1500-123", [("+628111500123", OFFICIAL)]),
        ("call 1500123", [("1500123", OFFICIAL)]),
        ("0812 9999 8888", [("+6281299998888", UNKNOWN)]),
        ("cs@banknusantara.co.id", [("cs@banknusantara.co.id", OFFICIAL)]),
        ("cs@bank-nusantara.net", [("cs@bank-nusantara.net", LOOKALIKE)]),
        ("instagram.com/banknusantara", [("instagram: @banknusantara", OFFICIAL)]),
        ("@banknusantara_official", [("@banknusantara_official", LOOKALIKE)]),
        ("@BankNusantara", [("@banknusantara", OFFICIAL)]),
    ],
)
def test_registry_checks(text: str, expected: list[tuple[str, str]]) -> None:
    assert verdicts(text) == expected


def test_scam_signals_and_compromise() -> None:
    text = (
        "URGENT: your account will be blocked. Reply with the OTP we sent. Prize at bit.ly/xyz. I already gave the code"
    )
    report = analyse(text, extract(text, NOW), None, BANK)
    assert {"urgency", "asks_secret", "prize", "shortener"} <= set(report.reasons)
    assert report.compromised
    apk = analyse("", None, MediaView(filename="Surat Tilang.apk"), BANK)
    assert apk.reasons == ("executable",)
    fee = analyse(
        "Nasabah Yth, mulai besok tarif transfer jadi Rp150.000/bulan, pilih tarif lama di link",
        extract("x", NOW),
        None,
        BANK,
    )
    assert "fee_scam" in fee.reasons
    calm = analyse("Besok saya mau ke cabang Sudirman", extract("Besok saya mau ke cabang Sudirman", NOW), None, BANK)
    assert not calm.suspicious and not calm.compromised


def test_defang() -> None:
    assert defang_text("TRAVELOKA.COM 123") == "TRAVELOKA[.]COM 123"
    assert (
        defang_text("see banknusantara.co.id or evil.com", ["banknusantara.co.id"])
        == "see banknusantara.co.id or evil[.]com"
    )


def _texts(language: str) -> dict[str, str]:
    data = tomllib.loads((Path("src/loket/i18n") / f"{language}.toml").read_text())
    out: dict[str, str] = {}

    def walk(prefix: str, node: dict[str, object]) -> None:
        for key, value in node.items():
            full = f"{prefix}.{key}" if prefix else key
            if isinstance(value, dict):
                walk(full, value)
            else:
                out[full] = str(value)

    walk("", data)
    return out


# Console pages are read by staff, never sent to a customer: they may name what the gate refuses.
STAFF_FACING = ("console.", "complaints.console.")


@pytest.mark.parametrize("language", ["id", "en"])
@pytest.mark.parametrize("tenant", [BANK_NUSANTARA, ASURANSI_SEJAHTERA])
def test_every_bot_text_passes_the_policy_gate(language: str, tenant: object) -> None:
    """The gate refuses texts that ask for a secret or link outside the tenant's domains."""
    domains = link_domains(tenant_spec(tenant).official_channels) | {"ojk.go.id"}  # type: ignore[arg-type]
    refused = {
        key: problem
        for key, text in _texts(language).items()
        if not key.startswith(("alerts.", "feedback.", *STAFF_FACING))
        and (problem := content_problem(OutgoingContent(texts=(text,)), domains)) is not None
    }
    assert refused == {}
