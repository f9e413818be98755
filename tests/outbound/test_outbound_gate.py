"""The policy gate wired into the dispatcher: every verdict, recorded with its reason."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from outbound_support import WA, make_world, template_payload
from sqlalchemy import select

from loket.clock import FakeClock
from loket.db.engine import Database
from loket.events.callbacks import MessageNotifier
from loket.events.tables import InstitutionCallback
from loket.outbound.outbox import Purpose
from loket.outbound.tables import PolicyDecisionLog
from outbound_fakes import ScriptedChannel


async def decisions(db: Database) -> list[PolicyDecisionLog]:
    async with db.sessions() as session:
        return list((await session.execute(select(PolicyDecisionLog).order_by(PolicyDecisionLog.id))).scalars())


async def test_marketing_without_consent_is_refused_recorded_and_reported(db: Database) -> None:
    world = await make_world(db)
    await world.customer(wrote_at=world.clock.now())
    await world.queue("m1", purpose=Purpose.MARKETING, origin="event:evt-1")
    channel = ScriptedChannel()
    dispatcher = world.dispatcher(channel, listener=MessageNotifier(db.dialect, clock=world.clock))
    await dispatcher.drain()
    [row] = await world.rows()
    assert (row.state, row.policy_verdict, row.policy_rule) == ("refused", "refuse", "consent.marketing.missing")
    assert row.policy_record is not None and row.policy_record["req"] == "OFR-2, OFR-3"
    assert channel.sent == []
    [logged] = await decisions(db)
    assert (logged.outbox_id, logged.verdict, logged.rule_id) == (row.id, "refuse", "consent.marketing.missing")
    async with db.sessions() as session:
        [callback] = (await session.execute(select(InstitutionCallback))).scalars()
    assert (callback.kind, callback.body["data"]["event_id"], callback.body["data"]["reason"]) == (
        "message.refused",
        "evt-1",
        "policy",
    )


async def test_marketing_after_hours_is_deferred_to_the_next_slot_without_an_attempt(db: Database) -> None:
    # Monday 2 November 2026, 19:30 WIB: offers are allowed again on Tuesday at 08:00 WIB.
    clock = FakeClock(datetime(2026, 11, 2, 12, 30, tzinfo=UTC))
    world = await make_world(db, clock)
    await world.customer(wrote_at=clock.now(), consent_at=clock.now() - timedelta(days=30))
    await world.queue("m1", purpose=Purpose.MARKETING)
    channel = ScriptedChannel()
    dispatcher = world.dispatcher(channel)
    await dispatcher.drain()
    [row] = await world.rows()
    assert (row.state, row.attempts, row.policy_rule) == ("queued", 0, "hours.marketing")
    assert row.not_before == datetime(2026, 11, 3, 1, 0, tzinfo=UTC)
    assert channel.sent == []
    clock.advance((row.not_before - clock.now()).total_seconds())
    await dispatcher.drain()
    [row] = await world.rows()
    assert (row.state, row.policy_verdict) == ("sent", "allow")
    assert [d.rule_id for d in await decisions(db)] == ["hours.marketing"]


async def test_a_deferred_offer_does_not_hold_back_a_later_alert(db: Database) -> None:
    clock = FakeClock(datetime(2026, 11, 2, 12, 30, tzinfo=UTC))
    world = await make_world(db, clock)
    await world.customer(wrote_at=clock.now(), consent_at=clock.now() - timedelta(days=30))
    await world.queue("m1", purpose=Purpose.MARKETING)
    channel = ScriptedChannel()
    dispatcher = world.dispatcher(channel)
    await dispatcher.drain()
    await world.queue("a1", purpose=Purpose.ALERT, text="alert")
    await dispatcher.drain()
    assert [m["payload"]["text"]["body"] for m in channel.sent] == ["alert"]


async def test_outside_the_window_an_alert_goes_as_its_approved_template(db: Database) -> None:
    world = await make_world(db)
    await world.customer(wrote_at=world.clock.now() - timedelta(days=3))
    await world.template("loket_account_update")
    await world.queue("a1", fallback=template_payload())
    channel = ScriptedChannel()
    await world.dispatcher(channel).drain()
    [row] = await world.rows()
    assert (row.state, row.kind, row.policy_verdict) == ("sent", "template", "allow")
    assert channel.sent[0]["payload"]["type"] == "template"
    assert [(d.verdict, d.rule_id) for d in await decisions(db)] == [("switch_to_template", "window.closed")]


async def test_a_template_loket_has_not_seen_approved_is_refused(db: Database) -> None:
    world = await make_world(db)
    await world.customer(wrote_at=None)
    await world.template("loket_account_update", status="PENDING")
    await world.queue("a1", fallback=template_payload())
    channel = ScriptedChannel()
    await world.dispatcher(channel).drain()
    [row] = await world.rows()
    assert (row.state, row.policy_rule) == ("refused", "template.not_approved")
    assert channel.sent == []


async def test_a_free_form_service_reply_outside_the_window_is_refused(db: Database) -> None:
    world = await make_world(db)
    await world.customer(wrote_at=world.clock.now() - timedelta(days=2))
    await world.queue("s1", purpose=Purpose.SERVICE)
    await world.dispatcher(ScriptedChannel()).drain()
    [row] = await world.rows()
    assert (row.state, row.policy_rule) == ("refused", "window.closed")


async def test_a_request_for_an_otp_never_leaves(db: Database) -> None:
    world = await make_world(db)
    await world.customer(wrote_at=world.clock.now())
    await world.queue("s1", purpose=Purpose.SERVICE, text="Silakan kirim kode OTP Anda ke nomor ini.")
    channel = ScriptedChannel()
    await world.dispatcher(channel).drain()
    [row] = await world.rows()
    assert (row.state, row.policy_rule) == ("refused", "content.asks_for_secret")
    assert channel.sent == []


async def test_links_outside_the_tenants_domains_are_refused_and_its_own_pass(db: Database) -> None:
    world = await make_world(db)
    await world.customer(wrote_at=world.clock.now())
    await world.queue("s1", purpose=Purpose.SERVICE, text="Info: https://promo.banknusantara.co.id/x")
    await world.queue("s2", purpose=Purpose.SERVICE, text="Info: https://banknusantara.co.id.evil.com/x")
    await world.dispatcher(ScriptedChannel()).drain()
    assert [(r.state, r.policy_rule) for r in await world.rows()] == [
        ("sent", "allow"),
        ("refused", "content.link_not_allowed"),
    ]


async def test_an_alert_to_a_stranger_is_refused(db: Database) -> None:
    world = await make_world(db)
    await world.queue("a1", to="6289999999999")
    await world.dispatcher(ScriptedChannel()).drain()
    [row] = await world.rows()
    assert (row.state, row.policy_rule) == ("refused", "consent.relationship.missing")


async def test_an_inactive_number_refuses_everything(db: Database) -> None:
    from loket.db.models import PhoneNumber

    world = await make_world(db)
    await world.customer(wrote_at=world.clock.now())
    async with db.transaction() as session:
        number = await session.get(PhoneNumber, "109876543210001")
        assert number is not None
        number.status = "suspended"
    await world.queue("a1")
    await world.dispatcher(ScriptedChannel()).drain()
    [row] = await world.rows()
    assert (row.state, row.policy_rule) == ("refused", "number.inactive")


async def test_policy_decisions_reach_the_audit_log_when_one_is_installed(db: Database) -> None:
    from loket import audit
    from loket.audit.tables import AuditEntry

    world = await make_world(db)
    await world.customer(wrote_at=world.clock.now())
    await world.queue("m1", purpose=Purpose.MARKETING)
    audit.install(audit.AuditLog(db, audit.Pseudonymizer(bytes(32)), clock=world.clock))
    try:
        await world.dispatcher(ScriptedChannel()).drain()
    finally:
        audit.install(None)
    async with db.sessions() as session:
        entries = list((await session.execute(select(AuditEntry))).scalars())
    [entry] = [e for e in entries if e.event_type == "policy.decision"]
    assert (entry.fields["rule"], entry.fields["decision"], entry.fields["zone"]) == (
        "consent.marketing.missing",
        "blocked",
        "wib",
    )
    assert WA not in str(entry.fields)
