"""The audit log is wired in: conversations leave verifiable `message.received` entries that hold
no plaintext personal data."""

from __future__ import annotations

from collections.abc import AsyncIterator

import orjson
import pytest
from sqlalchemy import select

from loket.audit.tables import AuditEntry
from loket.audit.verify_db import verify_database
from loket.config import Settings
from loket.db.engine import Database
from stack import Stack, running_stack
from support import TEST_SCOPE


@pytest.fixture
async def stack(settings: Settings) -> AsyncIterator[Stack]:
    async with running_stack(settings) as running:
        yield running


async def test_received_messages_are_audited_without_personal_data(stack: Stack) -> None:
    customer = stack.customer("bank-nusantara", language="id")
    await stack.say(customer, type="text", text="bantuan")
    assert len(await stack.replies(customer, 1)) == 1
    db = Database(stack.settings.effective_database_url, default_scope=TEST_SCOPE)
    try:
        async with db.sessions() as session:
            entries = (
                (await session.execute(select(AuditEntry).where(AuditEntry.tenant_id == "bank-nusantara")))
                .scalars()
                .all()
            )
        received = [e for e in entries if e.event_type == "message.received"]
        assert len(received) == 1
        stored = orjson.dumps(received[0].fields).decode()
        assert customer["wa_id"] not in stored and "bantuan" not in stored
        report = await verify_database(db, "bank-nusantara")
        assert report.ok, report
    finally:
        await db.dispose()
