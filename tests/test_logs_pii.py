"""No personal data in any log line or metric label: seed unique values through every journey on the
production path (webhooks, processor, outbox, events API, Flows, step-up in the institution's app)
with every logger at DEBUG, then look for them in what was logged and in /metrics.

Two checks: the lines as Loket writes them (JSON, after the redaction safety net, every logger),
and the raw messages of Loket's own loggers before redaction, because the rule is at the source
(docs/style.md). The sandbox and uvicorn's access lines are the emulated phone and Meta and the
URLs this test itself polls; they are held to the first check only.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Any

import orjson
import pytest

from conversation.script_support import Script, body_of, buttons_of, fast
from loket.audit import log as audit_log
from loket.config import Settings
from loket.core.demo.tenants import BANK_NUSANTARA
from loket.db.engine import Database
from loket.demo import access_token_for
from loket.events.endpoints import EndpointStore
from loket.events.signing import SIGNATURE_HEADER, TENANT_HEADER, signature_header
from loket.log_redaction import redact_event, redact_text
from loket.logging_setup import PARAMETER_LOGGERS, configure_logging
from loket.outbound.templates import DEFINITIONS, TemplateApi, store_templates
from loket.sandbox.settings import SandboxSettings
from loket.security.secretbox import SecretBox
from stack import Stack, relaxed_pair_rate, running_stack
from support import TEST_SCOPE

BANK = BANK_NUSANTARA.tenant_id
WABA = BANK_NUSANTARA.phone_number.waba_id
RAW_EXEMPT = ("loket.sandbox", "uvicorn.access")
# Unique values a customer or an institution hands Loket; none may reach a log line.
TEXT_SECRET = "Tolong kabari Bu Wiryaningsih Kusumadewi soal rekening 8812 7733 1904"
FEEDBACK = "Pelayanan teller Zamrud Kencana lambat sekali, nomor saya 0813-9087-1122"
PAYEE = "CV Kenanga Wiryawan Abadi"
HANDOFF_TEXT = "saya mau bicara dengan CS soal transfer ke Pak Darmaji Sulistyohadi"


@dataclass
class Capture(logging.Handler):
    formatted: list[str] = field(default_factory=list)
    raw: list[tuple[str, str]] = field(default_factory=list)

    def __post_init__(self) -> None:
        logging.Handler.__init__(self, logging.DEBUG)

    def emit(self, record: logging.LogRecord) -> None:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):
            message = str(record.msg)
        extras = {k: v for k, v in record.__dict__.items() if k not in _STANDARD}
        self.raw.append((record.name, f"{message} {extras!r} {record.exc_text or ''}"))
        self.formatted.append(self.format(record))

    def __hash__(self) -> int:
        return id(self)


_STANDARD = set(logging.LogRecord("x", 0, "x", 0, "x", None, None).__dict__) | {"message", "asctime"}


@pytest.fixture
def capture() -> Iterator[Capture]:
    root = logging.getLogger()
    saved_handlers, saved_level = root.handlers[:], root.level
    loggers = {name: lg for name, lg in logging.root.manager.loggerDict.items() if isinstance(lg, logging.Logger)}
    saved_levels = {name: lg.level for name, lg in loggers.items()}
    # Every logger at DEBUG, as LOKET_LOG_LEVEL=DEBUG gives it: only the drivers that print SQL
    # parameters stay pinned at WARNING by configure_logging (they are checked below).
    for logger in loggers.values():
        logger.setLevel(logging.NOTSET)
    configure_logging("DEBUG", "json")
    handler = Capture()
    handler.setFormatter(root.handlers[0].formatter)
    root.handlers[:] = [handler]
    try:
        yield handler
    finally:
        root.handlers[:] = saved_handlers
        root.setLevel(saved_level)
        for name, level in saved_levels.items():
            logging.getLogger(name).setLevel(level)


def quick_templates(conf: SandboxSettings) -> None:
    relaxed_pair_rate(conf)
    conf.template_approve_delay_seconds = 0.05


@pytest.fixture
async def stack(settings: Settings, capture: Capture) -> AsyncIterator[Stack]:
    previous = audit_log.current()  # the stack installs its audit log process-wide
    try:
        async with running_stack(fast(settings), tune_sandbox=quick_templates) as running:
            yield running
    finally:
        audit_log.install(previous)


async def events_secret(stack: Stack) -> str:
    db = Database(stack.settings.effective_database_url, default_scope=TEST_SCOPE)
    try:
        secret = await EndpointStore(db, SecretBox(stack.settings.master_key_bytes)).rotate(BANK)
        api = TemplateApi(stack.settings.graph_api_url)
        token = access_token_for(BANK_NUSANTARA)
        await api.submit(WABA, token, DEFINITIONS)
        await asyncio.sleep(0.3)  # the sandbox approves them
        await store_templates(db, WABA, await api.fetch(WABA, token), stack.core._clock.now())
    finally:
        await db.dispose()
    return secret


async def post_event(stack: Stack, secret: str, payload: dict[str, Any]) -> dict[str, Any]:
    body = orjson.dumps(payload)
    headers = {
        "Content-Type": "application/json",
        TENANT_HEADER: BANK,
        SIGNATURE_HEADER: signature_header(secret.encode(), int(time.time()), body),
    }
    async with stack.http.post(f"{stack.base}/v1/events", data=body, headers=headers) as resp:
        answer: dict[str, Any] = await resp.json()
        assert resp.status in (200, 202), answer
        return answer


async def a_debit_card_customer(stack: Stack) -> dict[str, Any]:
    for customer in stack.summary["customers"]:
        if customer["tenant_id"] != BANK or customer["language"] != "id":
            continue
        cards = await stack.core.list_cards(BANK, customer["customer_id"])
        if [c.kind.value for c in cards] == ["debit"]:
            return dict(customer)
    raise LookupError("no demo customer with one debit card")


async def seeded_values(stack: Stack, customer: dict[str, Any]) -> set[str]:
    person = await stack.core.get_customer(BANK, customer["customer_id"])
    accounts = await stack.core.list_accounts(BANK, customer["customer_id"])
    values = {person.full_name, person.phone_e164, person.phone_e164.lstrip("+"), customer["wa_id"]}
    values |= {account.number for account in accounts}
    values |= {"Wiryaningsih", "8812 7733 1904", "Zamrud Kencana", "0813-9087-1122", "Wiryawan", "Sulistyohadi"}
    return values


async def drive_every_journey(stack: Stack, customer: dict[str, Any]) -> None:
    script = Script(stack, customer)
    await script.says("halo")
    # Balance behind step-up in the institution's app, then mutations while elevated.
    await script.says("cek saldo saya")
    await script.approve_in_app()
    await script.expect(1)
    await script.says("cek mutasi dong")
    # Free text the bot does not understand, full of personal data.
    await script.says(TEXT_SECRET)
    await settle(script)
    # Feedback through the WhatsApp Flow (encrypted data exchange).
    await stack.say(customer, type="list_reply", row_id="menu:feedback")
    flow = await next_of_kind(script, "flow")
    status, screen = await stack.sandbox("flows/open", {"message_id": flow["id"]})
    assert status == 200, screen
    submit = {"session": screen["session"], "action": "data_exchange", "screen": "FEEDBACK"}
    payload = {"topic": "service", "rating": "2", "comment": FEEDBACK, "contact_ok": True}
    status, done = await stack.sandbox("flows/submit", {**submit, "payload": payload})
    assert status == 200 and done["done"], done
    await script.expect(1)
    # Block the card (protective: no step-up).
    await settle(script)
    blocked = await script.says("kartu atm sy ilang!!")
    assert any("BLK-" in body_of(m) for m in blocked)
    await settle(script)
    # An institution's alert and a high-risk confirmation through the events API, answered "yes" with step-up.
    secret = await events_secret(stack)
    account = (await stack.core.list_accounts(BANK, customer["customer_id"]))[0]
    alert = {
        "id": "pii-alert-1",
        "type": "transaction.posted",
        "occurred_at": "2026-11-30T10:15:00+07:00",
        "customer_id": customer["customer_id"],
        "data": {
            "account_id": account.account_id,
            "transaction_id": "T-pii-1",
            "direction": "debit",
            "amount": 175_000,
            "description": f"Transfer ke {PAYEE}",
            "balance_after": 1_000_000,
        },
    }
    await post_event(stack, secret, alert)
    await script.expect(1, timeout=15)
    await settle(script)
    expires = time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(time.time() + 600))
    confirmation = {
        "id": "pii-cfm-1",
        "type": "confirmation.requested",
        "occurred_at": "2026-11-30T10:16:00+07:00",
        "customer_id": customer["customer_id"],
        "data": {
            "amount": 25_000_000,
            "payee": PAYEE,
            "channel": "Internet banking",
            "expires_at": expires,
            "risk": "high",
        },
    }
    answer = await post_event(stack, secret, confirmation)
    asked = await script.expect(1, timeout=15)
    yes = next((rid for m in asked for rid, _ in buttons_of(m) if rid.endswith(":yes")), None)
    confirmation_id = answer["outcome"]["confirmation_id"]
    await script.taps(yes or f"cfm:{confirmation_id}:yes")
    await script.approve_in_app()
    await script.expect(1, timeout=15)
    # A person takes over; what the customer writes meanwhile is for the agent only.
    await script.says(HANDOFF_TEXT)
    await stack.say(customer, type="text", text=TEXT_SECRET)
    await asyncio.sleep(0.5)


async def next_of_kind(script: Script, kind: str, timeout: float = 20.0) -> dict[str, Any]:
    """The next interactive message of `kind` (late replies to earlier messages may come first)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for message in await script.expect(1, timeout=timeout):
            if message["payload"].get("interactive", {}).get("type") == kind:
                return message
    raise AssertionError(f"no {kind} message arrived")


async def settle(script: Script, quiet: float = 0.7) -> None:
    """Wait until the bot has said everything it had to say, and count it as seen."""
    while True:
        await asyncio.sleep(quiet)
        out = await script.stack.replies(script.customer, script.seen + 1, 0.05)
        if len(out) <= script.seen:
            return
        script.seen = len(out)


def number_in_base64(number: str) -> set[str]:
    """The parts of base64(number) that do not depend on what surrounds it, at each alignment."""
    pieces = set()
    for shift in range(3):
        encoded = base64.b64encode(b"\0" * shift + number.encode()).decode()
        stable = encoded[4 if shift else 0 : 4 * ((shift + len(number)) // 3)]
        if len(stable) >= 8:
            pieces.add(stable)
    return pieces


async def metrics_text(stack: Stack) -> str:
    async with stack.http.get(f"{stack.base}/metrics") as resp:
        assert resp.status == 200
        return await resp.text()


def test_database_drivers_never_log_parameters() -> None:
    configure_logging("DEBUG", "json")
    try:
        for name in PARAMETER_LOGGERS:
            assert not logging.getLogger(name).isEnabledFor(logging.INFO), name
    finally:
        logging.getLogger().setLevel(logging.WARNING)


async def test_no_seeded_personal_value_reaches_a_log_line_or_a_metric(stack: Stack, capture: Capture) -> None:
    customer = await a_debit_card_customer(stack)
    values = await seeded_values(stack, customer)
    await drive_every_journey(stack, customer)
    metrics = await metrics_text(stack)

    assert any(name.startswith("loket.") for name, _ in capture.raw), "the journeys were logged"
    leaks = [(value, line[:300]) for line in capture.formatted for value in values if value in line]
    assert leaks == [], f"personal data in log lines: {leaks[:5]}"
    # Meta's message ids carry the number in base64: the lines carry a digest of them instead.
    encoded = number_in_base64(customer["wa_id"])
    hidden = [line[:300] for line in capture.formatted if any(piece in line for piece in encoded)]
    assert hidden == [], f"a message id with the customer's number in base64: {hidden[:3]}"
    raw = [(name, text) for name, text in capture.raw if not name.startswith(RAW_EXEMPT)]
    source = [(value, name, text[:300]) for name, text in raw for value in values if value in text]
    assert source == [], f"personal data logged at the source (the redaction hid it): {source[:5]}"
    assert [value for value in values if value in metrics] == []


@pytest.mark.parametrize(
    ("line", "kept", "gone"),
    [
        ("to 6281234567890 now", "to [number] now", "6281234567890"),
        ("call +62 812-3456-7890", "call [number]", "3456"),
        ("card 4111 1111 1111 1111 blocked", "card [number] blocked", "4111"),
        ("rekening 0012345678", "rekening [number]", "0012345678"),
        ("mail siti.rahayu@contoh.co.id", "mail [email]", "rahayu"),
        ("graph send: phone_number_id=109876543210001", "phone_number_id=109876543210001", ""),
        ("sent wamid.HBgNNjI4MTIzNDU2Nzg5MBUCABIYID", "sent wamid#", "NjI4MTIzNDU2Nzg5"),
        ("at 2026-11-29T13:45:00Z took 0.0123456789 s, 12 rows", "at 2026-11-29T13:45:00Z took 0.0123456789 s", ""),
    ],
)
def test_the_redaction_safety_net(line: str, kept: str, gone: str) -> None:
    redacted = redact_text(line)
    assert kept in redacted
    assert not gone or gone not in redacted


def test_structured_values_are_redacted_but_ids_and_times_kept() -> None:
    event = {
        "event": "sent",
        "wa_id": "6281234567890",
        "extra": {"to": ["+6281234567890"], "n": 6281234567890},
        "tenant_id": "bank-nusantara",
        "phone_number_id": "109876543210001",
        "timestamp": "2026-11-29T13:45:00Z",
    }
    out = redact_event(None, "info", dict(event))
    assert out["wa_id"] == "[number]" and out["extra"] == {"to": ["[number]"], "n": "[number]"}
    assert out["phone_number_id"] == "109876543210001" and out["timestamp"] == event["timestamp"]
