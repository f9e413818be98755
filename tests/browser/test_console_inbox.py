"""The console's inbox in headless Chromium against the demo assembly: sign in with password and
TOTP (the code computed here with pyotp), a waiting chat appearing live without a reload after a
customer asks for a person through the real webhook, taking it, and keyboard-only use of the inbox.

Chromium is Debian's (`make test` installs it); without it this test fails, it never skips. On failure
a screenshot is left in the test's tmp_path.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pyotp
import pytest
from playwright.async_api import Browser, Page, async_playwright, expect

from loket.config import Settings
from stack import Stack, running_stack

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "console"))
from live_support import demo_logins

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


async def sign_in_with_keyboard(page: Page, stack: Stack, email: str, password: str, secret: str) -> None:
    await page.goto(f"{stack.base}/console/inbox")
    await expect(page).to_have_url(re.compile(r"/console/login"))
    # the email field has focus; everything below is typed, tabbed and entered, never clicked
    await page.keyboard.type(email)
    await page.keyboard.press("Tab")
    await page.keyboard.type(password)
    await page.keyboard.press("Enter")
    await expect(page).to_have_url(re.compile(r"/console/login/totp"))
    await expect(page.get_by_role("textbox", name="Kode")).to_be_focused()  # autofocus
    await page.keyboard.type(pyotp.TOTP(secret).now())
    await page.keyboard.press("Enter")
    await expect(page).to_have_url(re.compile(r"/console/inbox"))


async def inbox_flow(page: Page, stack: Stack) -> None:
    logins = await demo_logins(stack.settings.effective_database_url, stack.settings.master_key_bytes)
    agent = next(login for login in logins if login.tenant_id == BANK and login.role.value == "agent")
    secret = pyotp.parse_uri(agent.totp_uri).secret
    await sign_in_with_keyboard(page, stack, agent.email, agent.password, secret)
    await expect(page.get_by_role("heading", name="Kotak masuk")).to_be_visible()
    await expect(page.locator("#live-indicator")).to_have_attribute("data-state", "on")
    await expect(page.locator("#queue tbody tr.queue-row")).to_have_count(0)
    page_id = await page.evaluate("() => { window.__loaded = Date.now(); return window.__loaded; }")

    # a customer asks for a person: the chat appears without a reload, and is announced
    customer = stack.customer(BANK, language="id")
    await stack.say(customer, type="text", text="saya mau bicara dengan CS")
    row = page.locator("#queue tbody tr.queue-row")
    await expect(row).to_have_count(1)
    await expect(page.locator("#live-status")).to_have_text("Ada percakapan baru yang menunggu.")
    assert await page.evaluate("() => window.__loaded") == page_id  # the same page: no reload
    await expect(row.first).not_to_contain_text(customer["wa_id"])  # masked

    # keyboard only: j selects the first conversation, t takes it
    await page.locator("body").focus()
    await page.keyboard.press("j")
    await expect(row.first).to_have_class(re.compile("selected"))
    await expect(row.first.locator("a.open-link")).to_be_focused()
    await page.keyboard.press("Escape")
    await page.locator("body").focus()
    await page.keyboard.press("t")
    await expect(page).to_have_url(re.compile(r"tab=mine"))
    await expect(page.locator("#queue tbody tr.queue-row")).to_have_count(1)
    await expect(page.locator("p.notice")).to_have_text("Percakapan sudah menjadi milik Anda.")

    # tabs by number keys, and the skip link is the first thing Tab reaches
    await page.locator("body").focus()
    await page.keyboard.press("1")
    await expect(page).to_have_url(re.compile(r"tab=waiting"))
    await expect(page.locator("#queue tbody tr.queue-row")).to_have_count(0)
    await page.keyboard.press("Tab")
    await expect(page.locator("a.skip-link")).to_be_focused()
    await page.keyboard.press("Enter")
    await expect(page.locator("#main")).to_be_focused()
    # g d is the dashboard's shortcut, and agents lack it; g i stays in the inbox
    await page.locator("body").focus()
    await page.keyboard.press("g")
    await page.keyboard.press("i")
    await expect(page).to_have_url(re.compile(r"/console/inbox$"))
    # the status form, by keyboard: set available, save
    await page.get_by_label("Tersedia").focus()
    await page.keyboard.press("Space")
    await page.get_by_role("button", name="Simpan status").focus()
    await page.keyboard.press("Enter")
    await expect(page.get_by_label("Tersedia")).to_be_checked()


@pytest.fixture
def chromium() -> Path:
    assert CHROMIUM.exists(), f"{CHROMIUM} is missing: run `make tools` (scripts/ensure-tools.sh installs it)"
    return CHROMIUM


async def test_console_inbox_live_take_and_keyboard(settings: Settings, chromium: Path, tmp_path: Path) -> None:
    async with running_stack(settings) as stack, async_playwright() as playwright:
        browser: Browser = await playwright.chromium.launch(
            executable_path=str(chromium), args=CHROMIUM_ARGS, headless=True
        )
        try:
            page = await browser.new_page(viewport={"width": 1280, "height": 900})
            page.set_default_timeout(STEP_TIMEOUT_MS)
            expect.set_options(timeout=STEP_TIMEOUT_MS)
            errors: list[str] = []
            page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
            try:
                await inbox_flow(page, stack)
            except BaseException:
                shot = tmp_path / "console-inbox.png"
                await page.screenshot(path=str(shot), full_page=True)
                print(f"screenshot of the failure: {shot}; browser console errors: {errors}")
                raise
            assert not [e for e in errors if "Content Security Policy" in e], errors
        finally:
            await browser.close()
