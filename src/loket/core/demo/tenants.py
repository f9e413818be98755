"""The two demo institutions, as data the lead loads into Loket's tenant tables.

Everything here is fictional: names, licence numbers, domains and numbers were made up for the demo.
"""

from __future__ import annotations

from dataclasses import dataclass

from loket.core.port import InstitutionKind


@dataclass(frozen=True, slots=True)
class SocialAccount:
    platform: str  # instagram, x, facebook, tiktok, youtube
    handle: str
    url: str


@dataclass(frozen=True, slots=True)
class DemoPhoneNumber:
    """The institution's WhatsApp Business number as the Cloud API knows it."""

    phone_number_id: str  # 15 digits
    display_number: str  # as WhatsApp shows it, e.g. "+62 811-1500-123"
    phone_e164: str
    waba_id: str
    messages_per_second: int = 80


@dataclass(frozen=True, slots=True)
class DemoTenant:
    tenant_id: str
    kind: InstitutionKind
    name: str
    legal_name: str
    ojk_licence_number: str
    whatsapp_numbers: tuple[str, ...]  # official numbers, E.164
    web_domains: tuple[str, ...]
    call_centre_numbers: tuple[str, ...]
    email_domains: tuple[str, ...]
    social_accounts: tuple[SocialAccount, ...]
    phone_number: DemoPhoneNumber
    products: tuple[str, ...]


# Product names the generator uses, so that the data and the tenant rows agree.
BN_SAVINGS = "Tabungan Nusantara"
BN_SAVINGS_PRIORITY = "Tabungan Nusantara Prioritas"
BN_CURRENT = "Giro Nusantara Bisnis"
BN_DEBIT_CARD = "Kartu Debit Nusantara"
BN_CREDIT_GOLD = "Kartu Kredit Nusantara Gold"
BN_CREDIT_PLATINUM = "Kartu Kredit Nusantara Platinum"

AS_MOTOR = "Asuransi Mobil Sejahtera"
AS_HEALTH = "Sejahtera Sehat Keluarga"
AS_LIFE = "Sejahtera Jiwa Berjangka"

BANK_NUSANTARA = DemoTenant(
    tenant_id="bank-nusantara",
    kind=InstitutionKind.BANK,
    name="Bank Nusantara",
    legal_name="PT Bank Nusantara Tbk",
    ojk_licence_number="KEP-217/D.03/2009",
    whatsapp_numbers=("+628111500123",),
    web_domains=("banknusantara.co.id", "www.banknusantara.co.id", "ib.banknusantara.co.id"),
    call_centre_numbers=("1500123", "+62215700123"),
    email_domains=("banknusantara.co.id",),
    social_accounts=(
        SocialAccount("instagram", "@banknusantara", "https://www.instagram.com/banknusantara"),
        SocialAccount("x", "@BankNusantara", "https://x.com/BankNusantara"),
        SocialAccount("facebook", "Bank Nusantara", "https://www.facebook.com/banknusantara"),
        SocialAccount("tiktok", "@banknusantara", "https://www.tiktok.com/@banknusantara"),
        SocialAccount("youtube", "@BankNusantaraOfficial", "https://www.youtube.com/@BankNusantaraOfficial"),
    ),
    phone_number=DemoPhoneNumber(
        phone_number_id="114208873300501",
        display_number="+62 811-1500-123",
        phone_e164="+628111500123",
        waba_id="102938475610293",
    ),
    products=(
        BN_SAVINGS,
        BN_SAVINGS_PRIORITY,
        BN_CURRENT,
        BN_DEBIT_CARD,
        BN_CREDIT_GOLD,
        BN_CREDIT_PLATINUM,
    ),
)

ASURANSI_SEJAHTERA = DemoTenant(
    tenant_id="asuransi-sejahtera",
    kind=InstitutionKind.INSURER,
    name="Asuransi Sejahtera",
    legal_name="PT Asuransi Sejahtera Indonesia",
    ojk_licence_number="KEP-488/NB.11/2012",
    whatsapp_numbers=("+628111800456",),
    web_domains=("asuransisejahtera.co.id", "www.asuransisejahtera.co.id", "klaim.asuransisejahtera.co.id"),
    call_centre_numbers=("1500456", "+62215700456"),
    email_domains=("asuransisejahtera.co.id",),
    social_accounts=(
        SocialAccount("instagram", "@asuransisejahtera", "https://www.instagram.com/asuransisejahtera"),
        SocialAccount("x", "@AsuransiSejahtera", "https://x.com/AsuransiSejahtera"),
        SocialAccount("facebook", "Asuransi Sejahtera", "https://www.facebook.com/asuransisejahtera"),
        SocialAccount("youtube", "@AsuransiSejahtera", "https://www.youtube.com/@AsuransiSejahtera"),
    ),
    phone_number=DemoPhoneNumber(
        phone_number_id="114208873300702",
        display_number="+62 811-1800-456",
        phone_e164="+628111800456",
        waba_id="102938475610417",
    ),
    products=(AS_MOTOR, AS_HEALTH, AS_LIFE),
)

DEMO_TENANTS: tuple[DemoTenant, ...] = (BANK_NUSANTARA, ASURANSI_SEJAHTERA)


def demo_tenant(tenant_id: str) -> DemoTenant | None:
    return next((t for t in DEMO_TENANTS if t.tenant_id == tenant_id), None)
