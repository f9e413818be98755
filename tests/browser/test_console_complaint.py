"""A complaint's whole life in the console, in headless Chromium, with the server's clock simulated:
registered by phone on 23 December 2026, its 5-working-day clock crosses cuti bersama (24 Dec),
Christmas, the weekend and New Year; the worker's SLA pass makes the day-before reminders and, after
an extension notified in time, the breach escalation; the complaint closes unresolved with the
escalation path queued for the customer. Every step is in the audit log.

The server under test runs on a FakeClock (running_stack(clock=...)); the test moves it between
days, so staff sign in again after each jump (sessions expire) with the TOTP code of the server's
time. Chromium is Debian's; without it this test fails, it never skips. On failure a screenshot is
left in the test's tmp_path.
"""

from __future__ import annotations

import re
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, async_playwright, expect
from sqlalchemy import select

from loket.audit.tables import AuditEntry
from loket.clock import FakeClock
from loket.complaints.tables import Complaint
from loket.config import Settings
from loket.db.engine import Database
from loket.db.models import OutboxMessage
from loket.staff import totp
from stack import Stack, running_stack
from support import TEST_SCOPE

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "console"))
from live_support import DemoLogin, demo_logins

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]
BANK = "bank-nusantara"
STEP_TIMEOUT_MS = 10_000
# Wednesday 23 December 2026, 10:00 WIB
START = datetime(2026, 12, 23, 3, 0, tzinfo=UTC)


def jump_to(clock: FakeClock, moment: datetime) -> None:
    clock.advance((moment - clock.now()).total_seconds())


async def sign_in(page: Page, stack: Stack, login: DemoLogin, clock: FakeClock, then: str) -> None:
    await page.context.clear_cookies()
    await page.goto(f"{stack.base}{then}")
    await expect(page).to_have_url(re.compile(r"/console/login"))
    await page.get_by_label("Email").fill(login.email)
    await page.get_by_label("Kata sandi").fill(login.password)
    await page.keyboard.press("Enter")
    await expect(page).to_have_url(re.compile(r"/console/login/totp"))
    secret = re.search(r"secret=([A-Z2-7]+)", login.totp_uri)
    assert secret is not None
    await page.get_by_role("textbox", name="Kode").fill(totp.code_at(secret.group(1), clock.now()))
    await page.keyboard.press("Enter")
    await expect(page).not_to_have_url(re.compile(r"/console/login"))
    await page.goto(f"{stack.base}{then}")


async def wait_for_alerts(page: Page, stack: Stack, text: str) -> None:
    """The worker's SLA pass runs every 0.2 s here: reload the list until its badge says `text`."""
    for _ in range(50):
        await page.goto(f"{stack.base}/console/complaints")
        if text in (await page.locator("h1").inner_text()):
            return
        await page.wait_for_timeout(200)
    await expect(page.locator("h1")).to_contain_text(text)


async def complaint_life(page: Page, stack: Stack, clock: FakeClock) -> str:
    logins = await demo_logins(stack.settings.effective_database_url, stack.settings.master_key_bytes)
    agent = next(login for login in logins if login.tenant_id == BANK and login.role.value == "agent")
    customer = stack.customer(BANK, language="id")
    await sign_in(page, stack, agent, clock, "/console/complaints")
    await expect(page.get_by_role("heading", name="Pengaduan")).to_be_visible()

    # registered by phone on Wednesday 23 December 2026, 10:00 WIB
    await page.get_by_role("link", name="Catat pengaduan").click()
    await page.get_by_label("Saluran").select_option("phone")
    await page.get_by_label("Bentuk").select_option("oral")
    await page.get_by_label("Jenis").select_option("dispute")
    await page.get_by_label("Produk").select_option("savings")
    await page.get_by_label("Penyebab").select_option("failed_transaction")
    await page.get_by_label("Nominal yang dipersoalkan (Rp)").fill("300000")
    await page.get_by_label("Uraian pengaduan").fill("Setor tunai di mesin CRM tidak masuk ke rekening.")
    await page.get_by_label("Nama dan kontak pengadu").fill("Pak Joko, telepon ke call center")
    await page.get_by_label("Nomor WhatsApp").fill(str(customer["wa_id"]))
    await page.get_by_role("button", name="Catat dan beri nomor").click()
    await expect(page).to_have_url(re.compile(r"/console/complaints/PGD-2026-\d{6}$"))
    reference = page.url.rsplit("/", 1)[1]
    # 24 Dec cuti bersama, 25 Dec Christmas, weekend, 1 Jan New Year: day 5 is Monday 4 January
    await expect(page.locator("#sla")).to_have_text("sisa 5 hari kerja (tenggat 2027-01-04)")
    await page.get_by_role("button", name="Mulai tangani").click()
    await expect(page.locator("#status")).to_have_text("Ditangani")

    # Tuesday 29 December: three working days left, the day-7-style reminder is made by the worker
    jump_to(clock, datetime(2026, 12, 29, 3, 0, tzinfo=UTC))
    await sign_in(page, stack, agent, clock, "/console/complaints")
    await wait_for_alerts(page, stack, "1 pengingat/eskalasi terbuka")
    row = page.locator(f"tr[data-reference='{reference}']")
    await expect(row).to_contain_text("sisa 3 hari kerja (tenggat 2027-01-04)")
    await expect(row.locator(".badge")).to_have_class(re.compile("sla-soon"))

    # the extension needs the customer told first: refused, then notice, then recorded (5 days)
    await row.get_by_role("link").click()
    await page.get_by_label("Tambahan hari kerja (1-10)").fill("5")
    await page.get_by_role("button", name="Catat perpanjangan").click()
    await expect(page.locator("#action-error")).to_have_text("Perpanjangan ditolak: nasabah belum diberi tahu.")
    await page.get_by_role("button", name="Kirim pemberitahuan perpanjangan ke nasabah").click()
    await page.get_by_label("Tambahan hari kerja (1-10)").fill("5")
    await page.get_by_role("button", name="Catat perpanjangan").click()
    # 5 Jan 2027 is a national holiday: 6, 7, 8, 11, 12 January
    await expect(page.locator("#deadline")).to_have_text("2027-01-12 (tenggat awal 2027-01-04)")
    await page.get_by_role("button", name="Tandai sudah dibaca").click()

    # Wednesday 13 January 2027: breached; the worker escalates
    jump_to(clock, datetime(2027, 1, 13, 3, 0, tzinfo=UTC))
    await sign_in(page, stack, agent, clock, "/console/complaints")
    await wait_for_alerts(page, stack, "pengingat/eskalasi terbuka")
    row = page.locator(f"tr[data-reference='{reference}']")
    await expect(row).to_contain_text("terlambat 1 hari kerja (tenggat 2027-01-12)")
    await expect(row.locator(".badge")).to_have_class(re.compile("sla-breached"))
    await row.get_by_role("link").click()
    await expect(page.locator("#alerts")).to_contain_text("Tenggat terlewati (eskalasi)")
    await page.get_by_role("button", name="Tandai sudah dibaca").click()
    await expect(page.locator("#alerts")).to_contain_text("sudah dibaca")

    # closed unresolved with the final answer
    await page.get_by_label("Hasil").select_option("unresolved")
    answer = "Dana belum dapat kami temukan; hasil penelusuran mesin CRM terlampir."
    await page.get_by_label("Jawaban akhir kepada nasabah").fill(answer)
    await page.get_by_role("button", name="Kirim jawaban akhir").click()
    await expect(page.locator("#status")).to_have_text("Tidak selesai")
    await expect(page.locator("#final-answer")).to_have_text(answer)
    await expect(page.locator("#history")).to_contain_text("Tenggat terlewati")
    return reference


async def check_records(stack: Stack, reference: str) -> None:
    db = Database(stack.settings.effective_database_url, default_scope=TEST_SCOPE)
    try:
        async with db.transaction() as session:
            row = (await session.execute(select(Complaint).where(Complaint.reference == reference))).scalar_one()
            assert row.status == "unresolved" and row.breached_at is not None
            notices = (
                (await session.execute(select(OutboxMessage).where(OutboxMessage.to_wa_id == row.wa_id)))
                .scalars()
                .all()
            )
            bodies = [str(m.payload.get("text", {}).get("body", "")) for m in notices]
            audit = (await session.execute(select(AuditEntry).where(AuditEntry.tenant_id == BANK))).scalars().all()
    finally:
        await db.dispose()
    assert any(reference in b and "5 hari kerja" in b for b in bodies)  # the registration notice
    assert "LAPS SJK" in bodies[-1] and "kontak157.ojk.go.id" in bodies[-1]
    milestones = [e.fields.get("milestone") for e in audit if e.fields.get("complaint") == reference]
    for expected in ("registered", "in_progress", "reminder", "extension_notice", "extended", "breach", "unresolved"):
        assert expected in milestones, milestones


@pytest.fixture
def chromium() -> Path:
    assert CHROMIUM.exists(), f"{CHROMIUM} is missing: run `make tools` (scripts/ensure-tools.sh installs it)"
    return CHROMIUM


async def test_complaint_life_across_the_year_end_holidays(settings: Settings, chromium: Path, tmp_path: Path) -> None:
    clock = FakeClock(START)
    fast = settings.model_copy(update={"complaint_sweep_seconds": 0.2})
    async with running_stack(fast, clock=clock) as stack, async_playwright() as playwright:
        browser: Browser = await playwright.chromium.launch(
            executable_path=str(chromium), args=CHROMIUM_ARGS, headless=True
        )
        try:
            page = await browser.new_page(viewport={"width": 1280, "height": 1000})
            page.set_default_timeout(STEP_TIMEOUT_MS)
            expect.set_options(timeout=STEP_TIMEOUT_MS)
            errors: list[str] = []
            page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
            try:
                reference = await complaint_life(page, stack, clock)
            except BaseException:
                shot = tmp_path / "console-complaint.png"
                await page.screenshot(path=str(shot), full_page=True)
                print(f"screenshot of the failure: {shot}; browser console errors: {errors}")
                raise
            assert not [e for e in errors if "Content Security Policy" in e], errors
        finally:
            await browser.close()
    await check_records(stack, reference)
