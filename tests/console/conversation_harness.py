"""Harness for the conversation view tests: the console on an app with staff identity, two tenants with
a WhatsApp number each, a fake core (one known customer per tenant), a fake channel that keeps uploads
and serves customer files, the audit log installed, and helpers to put conversations in place."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import pytest
from fastapi import FastAPI
from sqlalchemy import select, update

from loket import audit
from loket.audit import AuditLog, Pseudonymizer
from loket.audit.tables import AuditEntry
from loket.channel.errors import GraphTransportError
from loket.channel.outgoing import Sendable
from loket.channel.port import MediaInfo, SentMessage
from loket.clock import FakeClock
from loket.console.app import install_console
from loket.console.conversation_services import ConversationServices
from loket.core.port import Account, AccountKind, Card, CardKind, CardStatus, Customer, NotFound, Policy
from loket.db.engine import Database
from loket.db.models import Conversation, InboundMessage
from loket.db.scope import SystemReason
from loket.dialogue.tables import Handoff
from loket.security.secretbox import SecretBox
from loket.staff.audit import MemoryAudit
from loket.staff.permissions import Role
from loket.staff.service import StaffService
from loket.staff.web import install_staff
from loket.tenancy.admin import PhoneNumberSpec, upsert_phone_number
from loket.tenancy.directory import PhoneDirectory
from staff.staff_harness import FAST_HASHING, MASTER_KEY, TENANT_A, TENANT_B, Client, Reply, World, seed_tenants

PNID = {TENANT_A: "1110001", TENANT_B: "2220002"}
WABA = {TENANT_A: "waba-a", TENANT_B: "waba-b"}
WA_ID = {TENANT_A: "6281234567890", TENANT_B: "6285711112222"}
CUSTOMER = {TENANT_A: "cust-a-1", TENANT_B: "cust-b-1"}
NAME = {TENANT_A: "Budi Santoso", TENANT_B: "Sari Lestari"}
ACCOUNT_NUMBER = "1234567894321"


class FakeCore:
    """CorePort with one customer per tenant: a savings account and a debit card."""

    async def find_customer_by_phone(self, tenant_id: str, phone_e164: str) -> Customer | None:
        if "+" + WA_ID.get(tenant_id, "") != phone_e164:
            return None
        return await self.get_customer(tenant_id, CUSTOMER[tenant_id])

    async def get_customer(self, tenant_id: str, customer_id: str) -> Customer:
        if CUSTOMER.get(tenant_id) != customer_id:
            raise NotFound(customer_id)
        return Customer(
            customer_id=customer_id,
            tenant_id=tenant_id,
            full_name=NAME[tenant_id],
            phone_e164="+" + WA_ID[tenant_id],
            language="id",
            province="DKI Jakarta",
            timezone="Asia/Jakarta",
            date_of_birth=date(1990, 1, 1),
            email="budi@example.com",
        )

    async def list_accounts(self, tenant_id: str, customer_id: str) -> list[Account]:
        return [Account("acc-1", customer_id, AccountKind("savings"), ACCOUNT_NUMBER, "Tabungan Andalas", "IDR", 1, 1)]

    async def list_cards(self, tenant_id: str, customer_id: str) -> list[Card]:
        return [Card("card-1", customer_id, CardKind("debit"), "5264 **** **** 1234", "Debit", CardStatus("active"))]

    async def list_policies(self, tenant_id: str, customer_id: str) -> list[Policy]:
        return []


@dataclass
class MediaChannel:
    """ChannelPort stand-in: uploads are kept, customer files are served by media id."""

    files: dict[str, bytes] = field(default_factory=dict)
    uploads: list[dict[str, Any]] = field(default_factory=list)

    async def send(
        self,
        phone_number_id: str,
        access_token: str,
        to: str,
        message: Sendable,
        *,
        biz_opaque_callback_data: str,
        context_message_id: str | None = None,
    ) -> SentMessage:
        raise AssertionError("the console never sends directly: replies go through the outbox")

    async def mark_read(
        self, phone_number_id: str, access_token: str, message_id: str, *, typing: bool = False
    ) -> None:
        return None

    async def upload_media(
        self, phone_number_id: str, access_token: str, data: bytes, mime_type: str, filename: str
    ) -> str:
        self.uploads.append({"pnid": phone_number_id, "data": data, "mime": mime_type, "filename": filename})
        return f"media-up-{len(self.uploads)}"

    async def get_media(self, media_id: str, access_token: str, phone_number_id: str | None = None) -> MediaInfo:
        if media_id not in self.files:
            raise GraphTransportError(False, operation="get_media", safe_to_repeat=True)
        return MediaInfo(
            f"https://media.test/{media_id}", "application/pdf", "0" * 64, len(self.files[media_id]), media_id
        )

    async def download_media(self, url: str, access_token: str) -> bytes:
        return self.files[url.rsplit("/", 1)[1]]

    async def delete_media(self, media_id: str, access_token: str, phone_number_id: str | None = None) -> None:
        return None


class ConsoleClient(Client):
    async def form(self, path: str, fields: dict[str, str]) -> Reply:
        return await self.request("POST", path, form=fields)

    async def multipart(self, path: str, fields: dict[str, str], files: dict[str, tuple[str, bytes, str]]) -> Reply:
        boundary = "----loket-test-boundary"
        parts: list[bytes] = []
        for name, value in fields.items():
            parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
        for name, (filename, data, mime) in files.items():
            head = (
                f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
                f"Content-Type: {mime}\r\n\r\n"
            )
            parts.append(head.encode() + data + b"\r\n")
        body = b"".join(parts) + f"--{boundary}--\r\n".encode()
        return await self.raw("POST", path, body, f"multipart/form-data; boundary={boundary}")

    async def raw(self, method: str, path: str, body: bytes, content_type: str) -> Reply:
        return await self.request(method, path, raw=(body, content_type))


@dataclass
class Desk:
    """The world of one test: staff identity (World), the console app and its services."""

    world: World
    services: ConversationServices
    channel: MediaChannel
    audit_log: AuditLog

    @property
    def db(self) -> Database:
        return self.world.db

    @property
    def clock(self) -> FakeClock:
        return self.world.clock

    async def staff(self, email: str, role: Role, tenant: str = TENANT_A) -> ConsoleClient:
        await self.world.add_user(email, role, tenant)
        client = ConsoleClient(self.world.app)
        await self.world.sign_in(email, client=client)
        return client

    async def conversation(
        self,
        tenant: str = TENANT_A,
        *,
        handoff: str = "waiting",
        last_inbound_ago: timedelta = timedelta(minutes=5),
        messages: list[dict[str, Any]] | None = None,
    ) -> int:
        """A customer who wrote `last_inbound_ago` and a handoff in that status; returns the handoff id
        (the console's conversation URLs are by handoff, as the inbox links them)."""
        now = self.clock.now()
        wa_id = WA_ID[tenant]
        async with self.db.system_session(SystemReason.PLATFORM_ADMIN) as session:
            row = Conversation(
                tenant_id=tenant,
                wa_id=wa_id,
                customer_id=CUSTOMER[tenant],
                language="id",
                state={},
                last_inbound_at=now - last_inbound_ago,
                created_at=now - timedelta(days=1),
                updated_at=now,
            )
            session.add(row)
            for index, spec in enumerate(messages or [{"kind": "text", "text": "saya mau bicara dengan petugas"}]):
                kind = spec["kind"]
                payload: dict[str, Any] = {"type": kind}
                if kind != "text":
                    payload[kind] = spec["media"]
                session.add(
                    InboundMessage(
                        wamid=f"wamid.{tenant}.{index}.{now.timestamp()}",
                        tenant_id=tenant,
                        phone_number_id=PNID[tenant],
                        wa_id=wa_id,
                        kind=kind,
                        text=spec.get("text"),
                        payload=payload,
                        meta_timestamp=int(now.timestamp()),
                        received_at=now - last_inbound_ago + timedelta(seconds=index),
                        state="done",
                    )
                )
            item = Handoff(
                tenant_id=tenant,
                phone_number_id=PNID[tenant],
                wa_id=wa_id,
                customer_id=CUSTOMER[tenant],
                language="id",
                reason="asked_for_person",
                summary="Nasabah menanyakan biaya administrasi bulanan.",
                status=handoff,
                created_at=now - last_inbound_ago,
            )
            session.add(item)
            await session.flush()
            return item.id

    async def another_handoff(self, tenant: str = TENANT_A) -> int:
        """The same customer handed over again (the previous handoff closed)."""
        async with self.db.system_session(SystemReason.PLATFORM_ADMIN) as session:
            await session.execute(update(Handoff).where(Handoff.tenant_id == tenant).values(status="closed"))
            item = Handoff(
                tenant_id=tenant,
                phone_number_id=PNID[tenant],
                wa_id=WA_ID[tenant],
                customer_id=CUSTOMER[tenant],
                language="id",
                reason="asked_for_person",
                summary="Nasabah kembali bertanya.",
                status="waiting",
                created_at=self.clock.now(),
            )
            session.add(item)
            await session.flush()
            return item.id

    async def audit_entries(self, tenant: str = TENANT_A, event_type: str | None = None) -> list[AuditEntry]:
        async with self.db.system_session(SystemReason.PLATFORM_ADMIN) as session:
            query = select(AuditEntry).where(AuditEntry.tenant_id == tenant).order_by(AuditEntry.seq)
            if event_type is not None:
                query = query.where(AuditEntry.event_type == event_type)
            return list((await session.execute(query)).scalars().all())


def page_text(reply: Reply) -> str:
    return reply.body.decode()


def as_json(reply: Reply) -> Any:
    return json.loads(reply.body)


def encoded(fields: dict[str, str]) -> str:
    return urlencode(fields)


@pytest.fixture
async def desk(db: Database) -> AsyncIterator[Desk]:
    clock = FakeClock(datetime(2026, 11, 30, 3, 0, tzinfo=UTC))
    box = SecretBox(MASTER_KEY)
    await seed_tenants(db, clock)
    for tenant in (TENANT_A, TENANT_B):
        await upsert_phone_number(
            db,
            box,
            PhoneNumberSpec(PNID[tenant], tenant, f"+62 21 {PNID[tenant]}", WABA[tenant], f"token-{tenant}"),
            clock=clock,
        )
    audit_log = AuditLog(db, Pseudonymizer(MASTER_KEY), clock=clock)
    audit.install(audit_log)
    staff = StaffService.build(db, MASTER_KEY, clock=clock, hashing=FAST_HASHING, audit=MemoryAudit())
    app = FastAPI()
    install_staff(app, staff)
    install_console(app)
    directory = PhoneDirectory(db, box, clock=clock)
    await directory.refresh()
    channel = MediaChannel()
    services = ConversationServices(db=db, box=box, directory=directory, core=FakeCore(), channel=channel, clock=clock)
    app.state.console_conversation = services
    world = World(db=db, clock=clock, audit=MemoryAudit(), staff=staff, app=app)
    try:
        yield Desk(world, services, channel, audit_log)
    finally:
        audit.install(None)
