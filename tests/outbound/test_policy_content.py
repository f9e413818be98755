"""Outbound content checks (SCM-1, SCM-2): secrets, links, attachments, and reading payloads."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from loket.channel.outgoing import (
    CtaUrl,
    Document,
    Image,
    ReplyButton,
    ReplyButtons,
    Template,
    Text,
    TextParam,
)
from loket.clock import FakeClock
from loket.compliance.calendar import HolidayCalendar
from loket.outbound.policy import (
    Allow,
    OutboundPolicy,
    OutgoingContent,
    PolicyFacts,
    PolicyInputError,
    Purpose,
    Refuse,
    Rule,
    TemplateFacts,
)
from loket.outbound.policy_content import attachment_problem, find_hosts, host_allowed, normalise_domain
from loket.outbound.policy_secrets import asks_for_secret

NOW = datetime(2026, 11, 2, 3, 0, tzinfo=UTC)
ALLOWED = frozenset({"banknusantara.co.id", "nusantara.id"})
POLICY = OutboundPolicy(HolidayCalendar(), clock=FakeClock(NOW))


def decide(content: OutgoingContent) -> Refuse | Allow:
    decision = POLICY.decide(
        PolicyFacts(
            purpose=Purpose.SERVICE,
            content=content,
            tenant_active=True,
            number_active=True,
            relationship_exists=True,
            last_inbound_at=NOW - timedelta(minutes=5),
            allowed_link_domains=ALLOWED,
        )
    )
    assert isinstance(decision, Refuse | Allow)
    return decision


def text(body: str) -> OutgoingContent:
    return OutgoingContent.from_payload(Text(body).to_payload())


@pytest.mark.parametrize(
    "body",
    [
        "Silakan kirim kode OTP Anda untuk verifikasi.",
        "Mohon berikan PIN ATM Anda kepada petugas kami.",
        "Balas pesan ini dengan kata sandi internet banking Anda",
        "Sebutkan nama ibu kandung Anda.",
        "Berapa nomor kartu kredit Anda?",
        "Ketikkan m-PIN Anda di sini",
        "Please reply with the CVV on the back of your card",
        "What is your password?",
        "Kindly share the verification code we sent you",
    ],
)
def test_requests_for_secrets_are_refused(body: str) -> None:
    assert asks_for_secret(body)
    decision = decide(text(body))
    assert isinstance(decision, Refuse)
    assert decision.rule_id == "content.asks_for_secret"
    assert body not in decision.reason


@pytest.mark.parametrize(
    "body",
    [
        "Kami tidak pernah meminta PIN atau OTP Anda.",
        "Jangan berikan kode OTP kepada siapa pun, termasuk petugas bank.",
        "Jika ada yang meminta PIN Anda, segera hubungi 1500-123.",
        "Waspada modus penipuan yang meminta kode OTP.",
        "We will never ask for your PIN or password.",
        "Do not share your OTP with anyone.",
        "Kode OTP Anda 482913. Jangan berikan kode ini kepada siapa pun.",
        "Balas YA untuk konfirmasi. PIN Anda tetap rahasia.",
        "Kartu Anda telah diblokir. Nomor kartu baru akan dikirim lewat pos.",
    ],
)
def test_warnings_about_secrets_pass(body: str) -> None:
    assert not asks_for_secret(body)
    assert isinstance(decide(text(body)), Allow)


@pytest.mark.parametrize(
    "body",
    [
        "Info lengkap: https://banknusantara.co.id/promo",
        "Buka https://www.banknusantara.co.id/kpr?ref=wa.",
        "Kunjungi promo.banknusantara.co.id hari ini",
        "Lihat www.nusantara.id",
        "Email kami di cs@banknusantara.co.id",
        "Laporkan penipuan ke iasc.ojk.go.id atau kontak157.ojk.go.id",  # the regulator, always allowed
        "Saldo Rp1.500.000.000 per 08.00 WIB. Sdr.Budi S.Pd, M.Si, Dr.Ir.",  # amounts, times, titles
        "Transfer ke rek. 1234.5678 berhasil.Terima kasih",
    ],
)
def test_allowed_links_and_non_links_pass(body: str) -> None:
    assert isinstance(decide(text(body)), Allow), find_hosts([body])


@pytest.mark.parametrize(
    ("body", "host"),
    [
        ("Klaim hadiah: https://banknusantara.co.id.evil.com/klaim", "banknusantara.co.id.evil.com"),
        ("Promo: bank-nusantara-promo.com", "bank-nusantara-promo.com"),
        ("Cek http://banknusantara.co.id@evil.com/login", "evil.com"),
        ("Masuk ke mybanknusantara.co.id", "mybanknusantara.co.id"),
        ("Unduh di bit.ly/3abcd", "bit.ly"),
        ("Buka http://203.0.113.7/login", "203.0.113.7"),
        ("Lihat www.evil.example", "www.evil.example"),
        ("Hubungi verifikasi@bank-nusantara.online", "bank-nusantara.online"),
        ("Buka intent://scan/#Intent;scheme=zxing;end", "intent:"),
        ("Kunjungi bаnknusantara.co.id", "xn--bnknusantara-x9j.co.id"),  # Cyrillic "а"
        ("Buka HTTPS://EVIL.COM/", "evil.com"),
        ("t.me/banknusantara_cs", "t.me"),
    ],
)
def test_links_elsewhere_are_refused(body: str, host: str) -> None:
    assert host in find_hosts([body])
    decision = decide(text(body))
    assert isinstance(decision, Refuse)
    assert decision.rule_id == "content.link_not_allowed"
    assert host in decision.reason


def test_subdomains_yes_lookalikes_no() -> None:
    allowed = {normalise_domain("BankNusantara.co.id.")}
    assert host_allowed("banknusantara.co.id", allowed)
    assert host_allowed("m.promo.banknusantara.co.id", allowed)
    assert not host_allowed("evilbanknusantara.co.id", allowed)
    assert not host_allowed("banknusantara.co.id.evil.com", allowed)
    assert not host_allowed("co.id", allowed)
    assert not host_allowed("anything.com", {""})


def test_cta_url_buttons_are_checked() -> None:
    good = CtaUrl(body="Lihat penawaran", display_text="Buka", url="https://kpr.banknusantara.co.id/x")
    bad = CtaUrl(body="Lihat penawaran", display_text="Buka", url="https://bank-nusantara-promo.com/x")
    assert isinstance(decide(OutgoingContent.from_payload(good.to_payload())), Allow)
    assert decide(OutgoingContent.from_payload(bad.to_payload())).rule is Rule.LINK_NOT_ALLOWED


def test_button_titles_and_template_parameters_are_checked() -> None:
    buttons = ReplyButtons(body="Pilih", buttons=(ReplyButton("a", "Ya"), ReplyButton("b", "evil.com")))
    assert decide(OutgoingContent.from_payload(buttons.to_payload())).rule is Rule.LINK_NOT_ALLOWED
    template = Template(name="info_umum", language="id", body=(TextParam("kirim PIN Anda ke nomor ini"),))
    facts = TemplateFacts(name="info_umum", category="UTILITY", status="APPROVED")
    content = OutgoingContent.from_payload(template.to_payload(), template=facts)
    assert decide(content).rule is Rule.ASKS_FOR_SECRET


@pytest.mark.parametrize(
    "filename",
    [
        "Undangan Pernikahan Digital.apk",
        "LIHAT Foto Paket.APK",
        "surat_tilang.pdf.apk",
        "tagihan.exe",
        "setup.msi",
        "update.bat",
        "run.cmd",
        "invoice.js",
        "app.jar",
        "install.sh",
        "script.ps1",
        "macro.vbs",
        "screensaver.scr",
        "command.com",
        "tagihan.exe. ",
        "ＴＡＧＩＨＡＮ．ＡＰＫ",  # full-width letters
    ],
)
def test_executable_attachments_are_refused(filename: str) -> None:
    document = Document(media_id="m1", filename=filename)
    decision = decide(OutgoingContent.from_payload(document.to_payload()))
    assert isinstance(decision, Refuse)
    assert decision.rule_id == "content.executable_attachment"


@pytest.mark.parametrize(
    "mime",
    ["application/vnd.android.package-archive", "application/x-msdownload", "Application/Java-Archive; charset=x"],
)
def test_executable_mime_types_are_refused(mime: str) -> None:
    document = Document(media_id="m1", filename="dokumen.pdf")
    content = OutgoingContent.from_payload(document.to_payload(), attachment_mime=mime)
    assert decide(content).rule is Rule.EXECUTABLE_ATTACHMENT


def test_a_linked_media_file_is_checked_by_its_path() -> None:
    content = OutgoingContent.from_payload({"type": "document", "document": {"link": "https://cdn.x/app.apk"}})
    assert content.attachment_filename == "app.apk"
    assert attachment_problem(content.attachment_filename, None) is not None


def test_a_bidi_trick_filename_is_refused() -> None:
    content = OutgoingContent.from_payload(Document(media_id="m1", filename="foto\u202egpj.apk").to_payload())
    assert decide(content).rule is Rule.DECEPTIVE_FILENAME


@pytest.mark.parametrize("filename", ["e-statement-2026-10.pdf", "polis.PDF", "foto.jpg", "README", "data.csv"])
def test_ordinary_documents_pass(filename: str) -> None:
    document = Document(media_id="m1", filename=filename, caption="E-statement Oktober")
    assert isinstance(
        decide(OutgoingContent.from_payload(document.to_payload(), attachment_mime="application/pdf")), Allow
    )


def test_captions_are_checked() -> None:
    image = Image(media_id="m1", caption="Scan QR lalu buka bank-nusantara-promo.com")
    assert decide(OutgoingContent.from_payload(image.to_payload())).rule is Rule.LINK_NOT_ALLOWED


def test_payload_reading_needs_template_facts_for_templates_only() -> None:
    template = Template(name="transaction_alert", language="id")
    with pytest.raises(PolicyInputError, match="template's facts"):
        OutgoingContent.from_payload(template.to_payload())
    other = TemplateFacts(name="something_else", category="UTILITY", status="APPROVED")
    with pytest.raises(PolicyInputError, match="different template"):
        OutgoingContent.from_payload(template.to_payload(), template=other)
    with pytest.raises(PolicyInputError, match="free-form"):
        OutgoingContent.from_payload(Text("Hai").to_payload(), template=other)


def test_ids_and_machine_fields_are_not_read_as_text() -> None:
    buttons = ReplyButtons(
        body="Apakah ini Anda?", buttons=(ReplyButton("deny.com", "Bukan saya"), ReplyButton("y", "Ya"))
    )
    content = OutgoingContent.from_payload(buttons.to_payload())
    assert "deny.com" not in content.texts
    assert "Bukan saya" in content.texts
    assert isinstance(decide(content), Allow)
