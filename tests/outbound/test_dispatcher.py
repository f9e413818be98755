"""The dispatcher against a scripted channel: every error class, no transaction held across a send."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from loket.channel.errors import GraphTimeout
from loket.clock import FakeClock
from loket.db.engine import Database
from loket.db.models import Conversation, OutboxMessage
from loket.db.upsert import insert_ignore
from loket.outbound.dispatcher import Dispatcher
from loket.outbound.outbox import Purpose, enqueue
from loket.outbound.statuses import StatusApplier
from loket.security.secretbox import SecretBox
from loket.tenancy.admin import PhoneNumberSpec, TenantSpec, upsert_phone_number, upsert_tenant
from loket.tenancy.directory import PhoneDirectory
from outbound_fakes import ScriptedChannel, graph_error

PNID = "109876543210001"
KEY = bytes(range(32))


@pytest.fixture
async def setup(db: Database) -> Callable[[list[Any]], Any]:
    box = SecretBox(KEY)
    await upsert_tenant(db, TenantSpec("bank-nusantara", "bank", "PT Bank Nusantara Tbk", "Bank Nusantara", "KEP-1"))
    await upsert_phone_number(db, box, PhoneNumberSpec(PNID, "bank-nusantara", "+62 811", "200", "secret-token"))
    clock = FakeClock()

    def make(outcomes: list[Any]) -> tuple[Dispatcher, ScriptedChannel, FakeClock]:
        channel = ScriptedChannel(outcomes)
        return Dispatcher(db, channel, PhoneDirectory(db, box, clock=clock), clock=clock, pace=False), channel, clock

    return make


async def queue(db: Database, clock: FakeClock, key: str, to: str = "6281234567890", text: str = "hai") -> None:
    """A service reply to someone who just wrote (the window is open, so the gate allows it)."""
    async with db.transaction() as session:
        await session.execute(
            insert_ignore(db.dialect, Conversation, "tenant_id", "wa_id").values(
                tenant_id="bank-nusantara",
                wa_id=to,
                state={},
                last_inbound_at=clock.now(),
                created_at=clock.now(),
                updated_at=clock.now(),
            )
        )
        await enqueue(
            session,
            dialect=db.dialect,
            tenant_id="bank-nusantara",
            phone_number_id=PNID,
            to_wa_id=to,
            payload={"type": "text", "text": {"body": text}},
            purpose=Purpose.SERVICE,
            idempotency_key=key,
            now=clock.now(),
        )


async def rows(db: Database) -> list[OutboxMessage]:
    async with db.sessions() as session:
        return list((await session.execute(select(OutboxMessage).order_by(OutboxMessage.id))).scalars())


async def test_send_records_wamid_and_callback_data(db: Database, setup: Any) -> None:
    dispatcher, channel, clock = setup(["wamid.A"])
    await queue(db, clock, "k1")
    await dispatcher.drain()
    [row] = await rows(db)
    assert (row.state, row.wamid) == ("sent", "wamid.A")
    assert channel.sent[0]["callback"] == str(row.id)
    assert channel.sent[0]["token"] == "secret-token"


async def test_idempotency_key_queues_once(db: Database, setup: Any) -> None:
    dispatcher, channel, clock = setup([])
    await queue(db, clock, "same")
    await queue(db, clock, "same")
    await dispatcher.drain()
    assert len(channel.sent) == 1


@pytest.mark.parametrize(
    ("error", "state"),
    [
        (graph_error(500, 131000), "queued"),
        (graph_error(429, 130429), "queued"),
        (graph_error(400, 131056), "queued"),
        (graph_error(400, 131047), "failed"),
        (graph_error(400, 131026), "undeliverable"),
        (graph_error(400, 100), "failed"),
    ],
)
async def test_error_classes(db: Database, setup: Any, error: Exception, state: str) -> None:
    dispatcher, _, clock = setup([error])
    await queue(db, clock, "k")
    await dispatcher.run_once()
    await dispatcher.close()
    [row] = await rows(db)
    assert row.state == state
    assert row.last_error_code is not None
    if state == "queued":
        assert row.not_before > clock.now()


async def test_retryable_error_is_sent_after_back_off(db: Database, setup: Any) -> None:
    dispatcher, channel, clock = setup([graph_error(503, 131000), "wamid.B"])
    await queue(db, clock, "k")
    await dispatcher.drain()
    assert (await rows(db))[0].state == "queued"
    clock.advance(600)
    await dispatcher.drain()
    [row] = await rows(db)
    assert (row.state, row.wamid, row.attempts) == ("sent", "wamid.B", 2)
    assert len(channel.sent) == 2


async def test_timeout_after_sending_is_unknown_then_reconciled_by_status(db: Database, setup: Any) -> None:
    from loket.db.models import MessageStatus

    dispatcher, channel, clock = setup([GraphTimeout(request_sent=True, operation="send")])
    await queue(db, clock, "k")
    await dispatcher.drain()
    [row] = await rows(db)
    assert row.state == "unknown"
    clock.advance(3600)
    await dispatcher.drain()
    assert len(channel.sent) == 1, "an unknown outcome is never blindly resent"
    async with db.transaction() as session:
        session.add(
            MessageStatus(
                wamid="wamid.LATE",
                status="delivered",
                phone_number_id=PNID,
                biz_opaque_callback_data=str(row.id),
                meta_timestamp=1,
                received_at=clock.now(),
                applied=False,
            )
        )
    await StatusApplier(db, clock=clock).run_once()
    [row] = await rows(db)
    assert (row.state, row.wamid, row.delivery_status) == ("sent", "wamid.LATE", "delivered")


async def test_timeout_before_sending_is_retried(db: Database, setup: Any) -> None:
    dispatcher, _channel, clock = setup([GraphTimeout(request_sent=False, operation="send"), "wamid.C"])
    await queue(db, clock, "k")
    await dispatcher.drain()
    clock.advance(600)
    await dispatcher.drain()
    assert (await rows(db))[0].state == "sent"


async def test_messages_to_one_recipient_keep_their_order_across_retries(db: Database, setup: Any) -> None:
    dispatcher, channel, clock = setup([graph_error(500, 131000), "wamid.1", "wamid.2", "wamid.3"])
    for index in range(3):
        await queue(db, clock, f"k{index}", text=f"pesan {index}")
    await dispatcher.drain()
    assert [m["payload"]["text"]["body"] for m in channel.sent] == ["pesan 0"]
    clock.advance(600)
    await dispatcher.drain()
    assert [m["payload"]["text"]["body"] for m in channel.sent] == ["pesan 0", "pesan 0", "pesan 1", "pesan 2"]


async def test_a_crashed_claim_becomes_unknown(db: Database, setup: Any) -> None:
    dispatcher, _channel, clock = setup([])
    await queue(db, clock, "k")
    claimed = await dispatcher.claim(10)
    assert len(claimed) == 1
    clock.advance(timedelta(minutes=5).total_seconds())
    other, _, _ = setup([])
    assert await other.recover_stale() == 1
    [row] = await rows(db)
    assert row.state == "unknown"


async def test_statuses_apply_monotonically_in_any_order(db: Database, setup: Any) -> None:
    from loket.db.models import MessageStatus

    dispatcher, _, clock = setup(["wamid.M"])
    await queue(db, clock, "k")
    await dispatcher.drain()
    applier = StatusApplier(db, clock=clock)
    for status in ("read", "delivered", "sent", "failed"):
        async with db.transaction() as session:
            session.add(
                MessageStatus(
                    wamid="wamid.M",
                    status=status,
                    phone_number_id=PNID,
                    meta_timestamp=1,
                    received_at=clock.now(),
                    applied=False,
                )
            )
        await applier.run_once()
    [row] = await rows(db)
    assert row.delivery_status == "read"
