"""The console's conversation view in headless Chromium, against the demo assembly in this test's loop:
an agent signs in with password and TOTP, opens a waiting chat, replies and the reply reaches the
sandbox phone; outside the 24-hour window only a template can be sent (with its parameters); a
supervisor reveals the customer's name with a reason and the reveal is in the audit log; the agent
closes with a CSAT question and the customer's tap is recorded.

Chromium is Debian's (`/usr/bin/chromium`); without it this test fails, it never skips. On failure a
screenshot is left in the test's tmp_path.
"""

from __future__ import annotations

import asyncio
import io
import time
import zipfile
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar

import aiohttp
import pytest
from playwright.async_api import Browser, BrowserContext, Page, async_playwright, expect
from sqlalchemy import select, update

from loket.audit.tables import AuditEntry
from loket.clock import system_clock
from loket.config import Settings
from loket.console.conversation_tables import CsatAnswer
from loket.db.engine import Database
from loket.db.models import Conversation
from loket.dialogue.tables import Handoff
from loket.outbound.tables import MessageTemplate
from loket.sandbox.settings import SandboxSettings, SeedTemplate
from loket.staff import totp
from loket.staff.permissions import Role
from loket.staff.service import StaffService
from stack import Stack, relaxed_pair_rate, running_stack
from support import TEST_SCOPE

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]
BANK = "bank-nusantara"
TEMPLATE = "layanan_tindak_lanjut"
TEMPLATE_BODY = (
    "Halo {{1}}, kami menindaklanjuti pertanyaan Anda tentang {{2}}. Balas pesan ini bila masih perlu bantuan."
)
FIRST_PASSWORD = "Kopi-tubruk-pagi-hari-9"
FINAL_PASSWORD = "Teh-manis-dingin-sore-42"
T = TypeVar("T")
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(64)


def _apk() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("AndroidManifest.xml", b"<manifest/>")
        archive.writestr("classes.dex", b"dex\n035")
    return buffer.getvalue()


APK = _apk()


def with_template(waba_id: str) -> Callable[[SandboxSettings], None]:
    def tune(conf: SandboxSettings) -> None:
        relaxed_pair_rate(conf)
        conf.templates.append(
            SeedTemplate(waba_id, TEMPLATE, "id", "UTILITY", [{"type": "BODY", "text": TEMPLATE_BODY}])
        )

    return tune


async def eventually(probe: Callable[[], Awaitable[T | None]], timeout: float = 15.0) -> T:
    deadline = time.monotonic() + timeout
    while True:
        found = await probe()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting")
        await asyncio.sleep(0.1)


async def sign_in(context: BrowserContext, base: str, email: str) -> Page:
    """Password, TOTP enrolment (the code computed from the secret on the page), backup codes, new password."""
    page = await context.new_page()
    await page.goto(f"{base}/console/login")
    await page.locator("#email").fill(email)
    await page.locator("#password").fill(FIRST_PASSWORD)
    await page.locator("form[action='/console/login'] button[type=submit]").click()
    await page.locator("form[action='/console/login/enrol'] button").click()
    secret = (await page.locator("#totp-secret").inner_text()).strip()
    await page.locator("#code").fill(totp.code_at(secret, system_clock.now()))
    await page.locator("form[action='/console/login/totp'] button").click()
    await page.locator("a.button").first.click()
    await page.locator("#current_password").fill(FIRST_PASSWORD)
    await page.locator("#new_password").fill(FINAL_PASSWORD)
    await page.locator("form[action='/console/login/password'] button").click()
    await page.wait_for_url(f"{base}/console/**")
    return page


async def test_agent_replies_uses_a_template_reveals_with_a_reason_and_closes_with_csat(
    settings: Settings, tmp_path: Path
) -> None:
    waba = "102938475610293"
    async with running_stack(settings, tune_sandbox=with_template(waba)) as stack:
        db = Database(stack.settings.effective_database_url, default_scope=TEST_SCOPE)
        try:
            await run_scenario(stack, db, waba, tmp_path)
        finally:
            await db.dispose()


async def run_scenario(stack: Stack, db: Database, waba: str, tmp_path: Path) -> None:
    staff = StaffService.build(db, stack.settings.master_key_bytes)
    for email, role in (("agen@nusantara.test", Role.AGENT), ("spv@nusantara.test", Role.SUPERVISOR)):
        await staff.accounts.create_user(
            None,
            email=email,
            display_name=email.split("@")[0].title(),
            role=role,
            tenant_id=BANK,
            password=FIRST_PASSWORD,
        )
    async with db.transaction() as session:
        session.add(
            MessageTemplate(
                waba_id=waba,
                name=TEMPLATE,
                language="id",
                category="UTILITY",
                status="APPROVED",
                components=[{"type": "BODY", "text": TEMPLATE_BODY}],
                updated_at=system_clock.now(),
            )
        )
    customer = stack.customer(BANK, language="id")
    await stack.say(customer, type="text", text="saya mau bicara dengan CS")

    async def handoff_id() -> int | None:
        async with db.sessions() as session:
            return (await session.execute(select(Handoff.id).where(Handoff.tenant_id == BANK))).scalar_one_or_none()

    handoff = await eventually(handoff_id)
    async with db.sessions() as session:
        conversation = (
            await session.execute(select(Conversation.id).where(Conversation.wa_id == customer["wa_id"]))
        ).scalar_one()
    url = f"{stack.base}/console/conversations/{handoff}"

    async with async_playwright() as playwright:
        browser: Browser = await playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        agent_context = await browser.new_context()
        page = await sign_in(agent_context, stack.base, "agen@nusantara.test")
        try:
            # Open the waiting chat from the inbox, and reply.
            await page.goto(f"{stack.base}/console/inbox")
            await page.locator(f"a.open-link[href='/console/conversations/{handoff}']").click()
            await page.wait_for_url(url)
            await expect(page.locator("#thread")).to_contain_text("saya mau bicara dengan CS")
            await expect(page.locator(".handoff-summary")).to_be_visible()
            await page.locator("#reply-text").fill("Halo, saya Agen dari Bank Nusantara. Ada yang bisa dibantu?")
            await page.locator(".reply-form button[type=submit]").click()
            await expect(page.locator(".conv-flash")).to_contain_text("antrean pengiriman")
            await eventually(lambda: phone_has(stack, customer, "saya Agen dari Bank Nusantara"))

            # A reply asking for an OTP is refused with the reason, and stays in the box.
            await page.locator("#reply-text").fill("Tolong kirimkan kode OTP Anda ke saya")
            await page.locator(".reply-form button[type=submit]").click()
            await expect(page.locator("#conv-error")).to_contain_text("OTP")
            await expect(page.locator("#reply-text")).to_have_value("Tolong kirimkan kode OTP Anda ke saya")

            # The customer sends an APK disguised as a PDF: flagged from its bytes, never opened.
            form = aiohttp.FormData()
            for key, value in (("wa_id", customer["wa_id"]), ("phone_number_id", customer["phone_number_id"])):
                form.add_field(key, value)
            form.add_field("type", "document")
            form.add_field("file", APK, filename="Undangan Pernikahan.pdf", content_type="application/pdf")
            async with stack.http.post(f"{stack.base}/sandbox/_sandbox/inbound", data=form) as resp:
                assert resp.status == 200, await resp.text()

            link = page.locator("#thread a", has_text="Undangan")
            await expect(link).to_be_visible(timeout=15_000)  # the thread refreshes by itself
            href = await link.get_attribute("href")
            await page.goto(f"{stack.base}{href}")
            await expect(page.locator("p.error")).to_contain_text("Berkas berbahaya")
            await page.goto(url)
            await expect(page.locator("#thread .file.dangerous")).to_contain_text("apk")

            # The agent sends an image: uploaded through the Graph API, then sent from the outbox.
            await page.locator("#file").set_input_files(
                files=[{"name": "contoh-formulir.png", "mimeType": "image/png", "buffer": PNG}]
            )
            await page.locator("#caption").fill("Contoh pengisian formulir")
            await page.locator(".file-form button[type=submit]").click()
            await expect(page.locator(".conv-flash")).to_contain_text("Berkas diunggah")
            await eventually(lambda: phone_has(stack, customer, "Contoh pengisian formulir", kind="image"))

            # The customer last wrote more than 24 hours ago: only the approved template can be sent.
            async with db.transaction() as session:
                await session.execute(
                    update(Conversation)
                    .where(Conversation.id == conversation)
                    .values(last_inbound_at=system_clock.now() - timedelta(hours=25))
                )
            await page.goto(url)
            await expect(page.locator(".window.closed")).to_be_visible()
            await expect(page.locator("#reply-text")).to_have_count(0)
            await page.locator(f"input[name='p:{TEMPLATE}:id:1']").fill("Bapak/Ibu")
            await page.locator(f"input[name='p:{TEMPLATE}:id:2']").fill("biaya administrasi")
            await page.locator(".template-form button[type=submit]").click()
            await expect(page.locator(".conv-flash")).to_contain_text("Templat masuk antrean")
            await eventually(lambda: phone_has(stack, customer, "biaya administrasi", kind="template"))

            # A supervisor reveals the customer's name with a reason; the audit log has the entry.
            supervisor_context = await browser.new_context()
            supervisor = await sign_in(supervisor_context, stack.base, "spv@nusantara.test")
            await supervisor.goto(url)
            masked = supervisor.locator(".masked[data-field=name]")
            await expect(masked).not_to_contain_text(customer["name"])
            details = supervisor.locator("dd", has=supervisor.locator(".masked[data-field=name]")).locator("details")
            await details.locator("summary").click()
            await details.locator("select[name=category]").select_option("identity_check")
            await details.locator("input[name=reason]").fill("Nasabah minta verifikasi nama pemilik rekening")
            await details.locator("button[type=submit]").click()
            await expect(supervisor.locator(".revealed[data-field=name]")).to_have_text(customer["name"])

            async def revealed() -> list[AuditEntry] | None:
                async with db.sessions() as session:
                    rows = (
                        await session.execute(
                            select(AuditEntry).where(
                                AuditEntry.tenant_id == BANK, AuditEntry.event_type == "pii.revealed"
                            )
                        )
                    ).scalars()
                    return list(rows) or None

            [entry] = await eventually(revealed)
            assert entry.fields["field"] == "name" and entry.fields["reason"] == "identity_check"
            assert customer["name"] not in str(entry.fields)

            # The customer writes again (the window reopens); the agent closes and asks for a rating.
            await stack.say(customer, type="text", text="baik terima kasih")
            await eventually(lambda: window_reopened(db, conversation))
            await page.goto(url)
            await page.locator("form[action$='/close'] button").click()
            await expect(page.locator(".conv-flash")).to_contain_text("pertanyaan penilaian dikirim")
            await eventually(lambda: phone_has(stack, customer, "Bagaimana penilaian Anda", kind="interactive"))
            await stack.say(customer, type="list_reply", row_id=f"csat:{handoff}:5")

            async def scored() -> int | None:
                async with db.sessions() as session:
                    return (
                        await session.execute(select(CsatAnswer.score).where(CsatAnswer.handoff_id == handoff))
                    ).scalar_one_or_none()

            assert await eventually(scored) == 5
            await eventually(lambda: phone_has(stack, customer, "Terima kasih atas penilaian Anda"))
        except BaseException:
            await page.screenshot(path=str(tmp_path / "conversation-failure.png"), full_page=True)
            raise
        finally:
            await browser.close()


async def phone_has(stack: Stack, customer: dict[str, Any], text: str, kind: str | None = None) -> bool:
    for message in await stack.chat(customer["phone_number_id"], customer["wa_id"]):
        if message["direction"] != "out" or (kind is not None and message["type"] != kind):
            continue
        if text in str(message.get("payload")) or text in str(message.get("rendered")):
            return True
    return False


async def window_reopened(db: Database, conversation: int) -> bool:
    async with db.sessions() as session:
        last = (
            await session.execute(select(Conversation.last_inbound_at).where(Conversation.id == conversation))
        ).scalar_one()
    return last is not None and last > system_clock.now() - timedelta(minutes=5)
