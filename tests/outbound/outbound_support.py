"""Helpers for the outbound engine's tests: a scripted channel, a tenant with a number, queueing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select

from loket.clock import FakeClock
from loket.db.engine import Database
from loket.db.models import Conversation, OutboxMessage
from loket.db.upsert import insert_ignore
from loket.outbound.dispatcher import Dispatcher, Pacing
from loket.outbound.outbox import Purpose, enqueue
from loket.outbound.ratelimit import LocalGcra
from loket.outbound.tables import MessageTemplate, Recipient
from loket.security.secretbox import SecretBox
from loket.tenancy.admin import PhoneNumberSpec, TenantSpec, upsert_phone_number, upsert_tenant
from loket.tenancy.directory import PhoneDirectory
from outbound_fakes import ScriptedChannel

PNID = "109876543210001"
WABA = "200"
TENANT = "bank-nusantara"
KEY = bytes(range(32))
WA = "6281234567890"


@dataclass
class World:
    db: Database
    clock: FakeClock
    directory: PhoneDirectory

    def dispatcher(self, channel: ScriptedChannel, *, pace: bool = False, **kwargs: Any) -> Dispatcher:
        return Dispatcher(
            self.db,
            channel,
            self.directory,
            clock=self.clock,
            pace=Pacing(enabled=pace),
            limiter=kwargs.pop("limiter", LocalGcra(clock=self.clock)),
            **kwargs,
        )

    async def customer(
        self,
        wa_id: str = WA,
        *,
        customer_id: str | None = "C-1",
        wrote_at: datetime | None = None,
        consent_at: datetime | None = None,
        zone: str | None = "Asia/Jakarta",
    ) -> None:
        now = self.clock.now()
        async with self.db.transaction() as session:
            session.add(
                Recipient(
                    tenant_id=TENANT,
                    wa_id=wa_id,
                    customer_id=customer_id,
                    marketing_consent_at=consent_at,
                    zone=zone,
                    updated_at=now,
                )
            )
            if wrote_at is not None:
                await session.execute(
                    insert_ignore(self.db.dialect, Conversation, "tenant_id", "wa_id").values(
                        tenant_id=TENANT,
                        wa_id=wa_id,
                        state={},
                        last_inbound_at=wrote_at,
                        created_at=now,
                        updated_at=now,
                    )
                )

    async def template(
        self, name: str, language: str = "id", status: str = "APPROVED", category: str = "UTILITY"
    ) -> None:
        async with self.db.transaction() as session:
            session.add(
                MessageTemplate(
                    waba_id=WABA,
                    name=name,
                    language=language,
                    category=category,
                    status=status,
                    updated_at=self.clock.now(),
                )
            )

    async def queue(
        self,
        key: str,
        *,
        purpose: Purpose = Purpose.ALERT,
        to: str = WA,
        text: str = "hai",
        fallback: dict[str, Any] | None = None,
        origin: str | None = None,
    ) -> None:
        async with self.db.transaction() as session:
            await enqueue(
                session,
                dialect=self.db.dialect,
                tenant_id=TENANT,
                phone_number_id=PNID,
                to_wa_id=to,
                payload={"type": "text", "text": {"body": text}},
                purpose=purpose,
                idempotency_key=key,
                now=self.clock.now(),
                fallback=fallback,
                origin=origin,
            )

    async def rows(self) -> list[OutboxMessage]:
        async with self.db.sessions() as session:
            return list((await session.execute(select(OutboxMessage).order_by(OutboxMessage.id))).scalars())


async def make_world(db: Database, clock: FakeClock | None = None) -> World:
    box = SecretBox(KEY)
    await upsert_tenant(
        db,
        TenantSpec(
            TENANT,
            "bank",
            "PT Bank Nusantara Tbk",
            "Bank Nusantara",
            "KEP-1",
            official_channels={"web_domains": ["banknusantara.co.id"], "call_centre_numbers": ["1500123"]},
        ),
    )
    await upsert_phone_number(db, box, PhoneNumberSpec(PNID, TENANT, "+62 811", WABA, "secret-token"))
    clock = clock or FakeClock()
    return World(db, clock, PhoneDirectory(db, box, clock=clock))


def template_payload(name: str = "loket_account_update", language: str = "id") -> dict[str, Any]:
    return {
        "type": "template",
        "template": {
            "name": name,
            "language": {"code": language},
            "components": [{"type": "body", "parameters": [{"type": "text", "text": "Kartu Anda diblokir."}]}],
        },
    }
