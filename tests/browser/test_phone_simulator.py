"""The phone simulator in headless Chromium, against the demo assembly running in this test's loop:
greeting with the PIN/OTP reminder, the menu as a list, a balance approved in the institution app
pane (step-up), and the feedback Flow filled in
and sent through Loket's encrypted Flow endpoint.

Chromium is Debian's (`make test` installs it through scripts/ensure-tools.sh); without it this test
fails, it never skips. On failure a screenshot is left in the test's tmp_path.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, async_playwright, expect

from loket.config import Settings
from stack import Stack, running_stack

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
BANK = "bank-nusantara"
STEP_TIMEOUT_MS = 10_000


def bubble(page: Page, direction: str, text: str) -> object:
    return page.locator(f"#chat .row.{direction} .bubble", has_text=text).last


async def open_menu_row(page: Page, row: str) -> None:
    await page.locator("#chat .row.out .actions button", has_text="Lihat menu").last.click()
    sheet = page.locator("#sheet")
    await expect(sheet).to_be_visible()
    await sheet.locator(".sheet-row", has_text=row).click()
    await expect(sheet).to_be_hidden()


async def converse(page: Page, stack: Stack) -> None:
    customer = stack.customer(BANK, language="id")
    await page.goto(f"{stack.base}/sandbox/")
    await page.locator(f'.customer[data-key="{customer["phone_number_id"]}:{customer["wa_id"]}"]').click()
    await expect(page.locator("#biz-name")).to_contain_text("Bank Nusantara")
    # The institution app pane is there for step-up approvals (the balance below asks for one).
    await expect(page.locator("aside.institution")).to_be_visible()
    await expect(page.locator("#institution-who")).to_contain_text(customer["name"])

    await page.locator("#text-input").fill("halo")
    await page.locator("#text-input").press("Enter")
    greeting = page.locator("#chat .row.out .bubble", has_text="tidak pernah meminta PIN")
    await expect(greeting).to_contain_text(f"Halo, {customer['name'].split()[0]}!")
    await expect(greeting).to_contain_text("OTP")
    menu = page.locator("#chat .row.out .bubble", has_text="Ada yang bisa kami bantu hari ini?")
    await expect(menu.locator(".actions button", has_text="☰ Lihat menu")).to_be_visible()

    await open_menu_row(page, "Cek saldo")
    # Balances need a step-up: the customer approves in the institution app pane, and the journey resumes.
    await expect(page.locator("#chat .row.out .bubble", has_text="setujui permintaan verifikasi")).to_be_visible()
    approve = page.locator("#stepups .stepup button.approve")
    await expect(approve).to_be_visible(timeout=STEP_TIMEOUT_MS)
    await expect(page.locator("#stepups .stepup h4")).to_have_text("Lihat saldo rekening lewat WhatsApp")
    await approve.click()
    balances = page.locator("#chat .row.out .bubble", has_text="Saldo rekening Anda per")
    await expect(balances).to_contain_text("Rp")

    await open_menu_row(page, "Kritik & saran")
    flow_button = page.locator("#chat .row.out .actions button", has_text="Isi formulir")
    await flow_button.click()
    form = page.locator("#sheet .flow-form")
    await expect(page.locator("#sheet-title")).to_have_text("Kritik & Saran")
    await form.locator('select[name="topic"]').select_option("whatsapp")
    await form.locator('input[name="rating"][value="5"]').check()
    await form.locator('textarea[name="comment"]').fill("Praktis sekali, tidak perlu antre di cabang.")
    await form.locator('input[name="contact_ok"]').check()
    await form.locator("button.flow-submit", has_text="Kirim").click()
    await expect(page.locator("#sheet")).to_be_hidden()

    thanks = page.locator("#chat .row.out .bubble", has_text="Terima kasih, kritik dan saran Anda sudah kami terima")
    await expect(thanks).to_contain_text("Nomor referensi: KS-")
    await expect(page.locator("#chat .row.in .bubble", has_text="Form sent")).to_be_visible()


@pytest.fixture
def chromium() -> Path:
    assert CHROMIUM.exists(), f"{CHROMIUM} is missing: run `make tools` (scripts/ensure-tools.sh installs it)"
    return CHROMIUM


async def test_phone_simulator_conversation_and_flow(settings: Settings, chromium: Path, tmp_path: Path) -> None:
    async with running_stack(settings) as stack, async_playwright() as playwright:
        browser: Browser = await playwright.chromium.launch(
            executable_path=str(chromium), args=CHROMIUM_ARGS, headless=True
        )
        try:
            page = await browser.new_page(viewport={"width": 1280, "height": 900})
            page.set_default_timeout(STEP_TIMEOUT_MS)
            expect.set_options(timeout=STEP_TIMEOUT_MS)
            try:
                await converse(page, stack)
            except BaseException:
                shot = tmp_path / "phone-simulator.png"
                await page.screenshot(path=str(shot), full_page=True)
                print(f"screenshot of the failure: {shot}")
                raise
        finally:
            await browser.close()
