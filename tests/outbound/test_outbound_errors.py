"""What the dispatcher does with each of Meta's error classes, asynchronous failures included,
and with workers that stop: back-offs, holds, template switches, opt-outs, dead letters, recovery."""

from __future__ import annotations

from datetime import timedelta

from outbound_support import PNID, TENANT, WA, make_world, template_payload
from sqlalchemy import select

from loket.channel.errors import GraphTimeout
from loket.db.engine import Database
from loket.db.models import MessageStatus
from loket.events.callbacks import MessageNotifier
from loket.events.tables import InstitutionCallback
from loket.outbound import admin
from loket.outbound.outbox import Purpose
from loket.outbound.ratelimit import LocalGcra, pair_key, sender_key
from loket.outbound.statuses import StatusApplier
from loket.outbound.tables import OutboundWorker, Recipient
from loket.outbound.workers import WorkerRegistry, expire_unknown, recover_claims
from outbound_fakes import ScriptedChannel, graph_error


async def test_130429_holds_the_whole_number_and_does_not_count_an_attempt(db: Database) -> None:
    world = await make_world(db)
    await world.customer(wrote_at=world.clock.now())
    limiter = LocalGcra(clock=world.clock)
    dispatcher = world.dispatcher(ScriptedChannel([graph_error(429, 130429)]), limiter=limiter)
    await world.queue("a1")
    await dispatcher.drain()
    [row] = await world.rows()
    assert (row.state, row.attempts, row.last_error_code) == ("queued", 0, 130429)
    assert row.not_before > world.clock.now()
    booking = await limiter.book(sender_key(PNID), 80, max_wait=0.0)
    assert not booking.booked and booking.wait >= 0.9, "every worker sharing the limiter backs off the number"
    other = await limiter.book(pair_key(PNID, "6280000000001"), 1 / 6, max_wait=0.0)
    assert other.booked


async def test_131056_reschedules_only_that_recipient(db: Database) -> None:
    world = await make_world(db)
    await world.customer(wrote_at=world.clock.now())
    await world.customer("6280000000002", customer_id="C-2", wrote_at=world.clock.now())
    limiter = LocalGcra(clock=world.clock)
    channel = ScriptedChannel([graph_error(400, 131056)])
    dispatcher = world.dispatcher(channel, limiter=limiter)
    await world.queue("a1")
    await world.queue("a2", to="6280000000002")
    await dispatcher.drain()
    first, second = await world.rows()
    assert (first.state, first.attempts) == ("queued", 0)
    assert second.state == "sent"
    assert not (await limiter.book(pair_key(PNID, WA), 1 / 6, max_wait=0.0)).booked
    assert (await limiter.book(sender_key(PNID), 80, max_wait=0.0)).booked


async def test_131047_switches_an_alert_to_its_template(db: Database) -> None:
    world = await make_world(db)
    await world.customer(wrote_at=world.clock.now())
    await world.template("loket_account_update")
    channel = ScriptedChannel([graph_error(400, 131047)])
    dispatcher = world.dispatcher(channel)
    await world.queue("a1", fallback=template_payload())
    await dispatcher.drain()
    [row] = await world.rows()
    assert (row.state, row.kind) == ("sent", "template")
    assert [m["payload"]["type"] for m in channel.sent] == ["text", "template"]


async def test_131026_is_undeliverable_and_the_institution_is_told(db: Database) -> None:
    world = await make_world(db)
    await world.customer(wrote_at=world.clock.now())
    notifier = MessageNotifier(db.dialect, clock=world.clock)
    dispatcher = world.dispatcher(ScriptedChannel([graph_error(400, 131026)]), listener=notifier)
    await world.queue("a1", origin="event:evt-9")
    await dispatcher.drain()
    [row] = await world.rows()
    assert row.state == "undeliverable"
    async with db.sessions() as session:
        [callback] = (await session.execute(select(InstitutionCallback))).scalars()
    assert (callback.kind, callback.body["data"]["event_id"], callback.body["data"]["error_code"]) == (
        "message.undeliverable",
        "evt-9",
        131026,
    )


async def test_131050_is_not_retried_and_records_the_opt_out(db: Database) -> None:
    world = await make_world(db)
    await world.customer(wrote_at=world.clock.now(), consent_at=world.clock.now() - timedelta(days=1))
    channel = ScriptedChannel([graph_error(400, 131050)])
    await world.queue("m1", purpose=Purpose.MARKETING)
    await world.dispatcher(channel).drain()
    [row] = await world.rows()
    assert (row.state, row.last_error_code) == ("failed", 131050)
    async with db.sessions() as session:
        recipient = await session.get(Recipient, (TENANT, WA))
    assert recipient is not None and recipient.marketing_opt_out_at == world.clock.now()
    await world.queue("m2", purpose=Purpose.MARKETING)
    await world.dispatcher(channel).drain()
    assert (await world.rows())[1].policy_rule == "consent.marketing.withdrawn"
    assert len(channel.sent) == 1


async def test_131049_is_not_retried(db: Database) -> None:
    world = await make_world(db)
    await world.customer(wrote_at=world.clock.now(), consent_at=world.clock.now() - timedelta(days=1))
    await world.queue("m1", purpose=Purpose.MARKETING)
    await world.dispatcher(ScriptedChannel([graph_error(400, 131049)])).drain()
    [row] = await world.rows()
    assert (row.state, row.last_error_code) == ("failed", 131049)


async def test_transient_errors_back_off_until_the_deadline_then_dead_letter(db: Database) -> None:
    world = await make_world(db)
    await world.customer(wrote_at=world.clock.now())
    channel = ScriptedChannel([graph_error(503, 131000) for _ in range(40)])
    dispatcher = world.dispatcher(channel)
    await world.queue("s1", purpose=Purpose.SERVICE)
    delays = []
    for _ in range(40):
        await dispatcher.drain()
        [row] = await world.rows()
        if row.state != "queued":
            break
        delays.append((row.not_before - world.clock.now()).total_seconds())
        world.clock.advance(delays[-1] + 0.001)
    assert row.state == "dead"
    assert row.last_error is not None and row.last_error.startswith("retry deadline passed")
    assert delays[1] > delays[0] / 2 and max(delays) <= 450, "exponential, jittered, capped"
    dead = await admin.dead_letters(db)
    assert [d.id for d in dead] == [row.id] and dead[0].recipient == "…" + WA[-4:]


async def test_a_timeout_after_the_request_left_is_unknown_then_reconciled(db: Database) -> None:
    world = await make_world(db)
    await world.customer(wrote_at=world.clock.now())
    channel = ScriptedChannel([GraphTimeout(request_sent=True, operation="send")])
    await world.queue("a1")
    await world.dispatcher(channel).drain()
    [row] = await world.rows()
    assert row.state == "unknown"
    async with db.transaction() as session:
        for status in ("delivered", "sent"):  # reordered
            session.add(
                MessageStatus(
                    wamid="wamid.LATE",
                    status=status,
                    phone_number_id=PNID,
                    biz_opaque_callback_data=str(row.id),
                    meta_timestamp=1,
                    received_at=world.clock.now(),
                    applied=False,
                )
            )
    await StatusApplier(db, clock=world.clock).run_once()
    [row] = await world.rows()
    assert (row.state, row.wamid, row.delivery_status) == ("sent", "wamid.LATE", "delivered")
    assert len(channel.sent) == 1


async def test_an_asynchronous_131026_makes_a_sent_message_undeliverable(db: Database) -> None:
    world = await make_world(db)
    await world.customer(wrote_at=world.clock.now())
    notifier = MessageNotifier(db.dialect, clock=world.clock)
    await world.queue("a1", origin="event:evt-2")
    await world.dispatcher(ScriptedChannel(["wamid.X"])).drain()
    applier = StatusApplier(db, clock=world.clock, listener=notifier)
    async with db.transaction() as session:
        session.add(
            MessageStatus(
                wamid="wamid.X",
                status="failed",
                phone_number_id=PNID,
                biz_opaque_callback_data="1",
                meta_timestamp=1,
                errors=[{"code": 131026, "title": "Message undeliverable"}],
                received_at=world.clock.now(),
                applied=False,
            )
        )
    await applier.run_once()
    await applier.run_once()
    [row] = await world.rows()
    assert row.state == "undeliverable"
    async with db.sessions() as session:
        callbacks = list((await session.execute(select(InstitutionCallback))).scalars())
    assert [c.kind for c in callbacks] == ["message.undeliverable"]


async def test_a_crashed_workers_claims_become_unknown_but_a_live_workers_do_not(db: Database) -> None:
    world = await make_world(db)
    await world.customer(wrote_at=world.clock.now())
    await world.customer("6280000000002", customer_id="C-2", wrote_at=world.clock.now())
    await world.queue("a1")
    await world.queue("a2", to="6280000000002")
    crashed = world.dispatcher(ScriptedChannel())
    alive = world.dispatcher(ScriptedChannel())
    for dispatcher in (crashed, alive):
        await WorkerRegistry(db, dispatcher.worker_id, clock=world.clock).register()
    [claim_a] = await crashed.claim(1)
    [claim_b] = await alive.claim(1)
    world.clock.advance(45)
    await WorkerRegistry(db, alive.worker_id, clock=world.clock).beat()
    assert await recover_claims(db, clock=world.clock, exclude=alive.worker_id) == 1
    states = {row.id: row.state for row in await world.rows()}
    assert states == {claim_a.id: "unknown", claim_b.id: "sending"}
    world.clock.advance(timedelta(minutes=20).total_seconds())
    assert await expire_unknown(db, clock=world.clock) == 1
    [dead] = await admin.dead_letters(db)
    assert dead.reason is not None and dead.reason.startswith("outcome unknown")
    # A status arriving late still settles it: it was delivered after all.
    async with db.transaction() as session:
        session.add(
            MessageStatus(
                wamid="wamid.Z",
                status="sent",
                phone_number_id=PNID,
                biz_opaque_callback_data=str(claim_a.id),
                meta_timestamp=1,
                received_at=world.clock.now(),
                applied=False,
            )
        )
    await StatusApplier(db, clock=world.clock).run_once()
    states = {row.id: row.state for row in await world.rows()}
    assert states[claim_a.id] == "sent"


async def test_a_stopped_worker_is_recovered_at_once(db: Database) -> None:
    world = await make_world(db)
    await world.customer(wrote_at=world.clock.now())
    await world.queue("a1")
    dispatcher = world.dispatcher(ScriptedChannel())
    registry = WorkerRegistry(db, dispatcher.worker_id, clock=world.clock)
    await registry.register()
    await dispatcher.claim(1)
    await registry.stopped()
    world.clock.advance(31)
    await WorkerRegistry(db, "other", clock=world.clock).housekeeping()
    assert [row.state for row in await world.rows()] == ["unknown"]
    async with db.sessions() as session:
        assert len(list((await session.execute(select(OutboundWorker))).scalars())) == 1


async def test_operators_retry_and_cancel(db: Database) -> None:
    world = await make_world(db)
    await world.customer(wrote_at=world.clock.now())
    channel = ScriptedChannel([graph_error(401, 190), graph_error(401, 190)])
    dispatcher = world.dispatcher(channel)
    await world.queue("a1")
    await world.queue("a2", to="6280000000003")
    await dispatcher.drain()
    rows = await world.rows()
    assert rows[0].state == "dead" and rows[0].last_error is not None and "needs an operator" in rows[0].last_error
    status = await admin.queue_status(db, clock=world.clock)
    assert status.depth[("dead", 2)] == 1
    assert await admin.retry(db, [rows[0].id], clock=world.clock) == 1
    assert await admin.cancel(db, [rows[0].id], clock=world.clock) == 1
    await dispatcher.drain()
    assert [row.state for row in await world.rows()] == ["cancelled", "refused"]
    assert await admin.retry(db, all_dead=True, clock=world.clock) == 0
