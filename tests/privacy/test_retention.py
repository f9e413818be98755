"""Retention per data class with legal hold (PDP-13, PDP-R4): a dry run counts, a purge deletes what is
older than its period except what a hold covers, the report is stored and audited, and the audit log
is never purged."""

from __future__ import annotations

from datetime import timedelta

import pytest
from privacy_support import BANK, BANK_PNID, BUDI, INSURER, SITI, count, leave_traces
from sqlalchemy import func, select

from loket.audit.log import AuditLog
from loket.audit.tables import AuditEntry
from loket.clock import FakeClock
from loket.db.engine import Database
from loket.db.models import FlowSession, InboundMessage, OutboxMessage, WebhookEnvelope
from loket.privacy import holds, retention
from loket.privacy.tables import PurgeRun
from loket.security.secretbox import SecretBox


async def old_and_new(db: Database, audit: AuditLog, box: SecretBox, clock: FakeClock) -> None:
    """Siti and Budi wrote 400 days ago; Budi writes again today. Plus an old and a new envelope."""
    then = clock.now() - timedelta(days=400)
    await leave_traces(db, audit, box, tenant=BANK, wa_id=SITI, at=then, tag="siti")
    await leave_traces(db, audit, box, tenant=BANK, wa_id=BUDI, at=then, tag="budi")
    await leave_traces(db, audit, box, tenant=BANK, wa_id=BUDI, at=clock.now(), tag="budi2", again=True)
    async with db.transaction() as session:
        for index, at in enumerate((then, clock.now())):
            session.add(
                WebhookEnvelope(
                    body_sha256=f"{index:064d}", received_at=at, body=b"{}", parse_state="ok", phone_number_id=BANK_PNID
                )
            )


async def entries(db: Database) -> int:
    async with db.sessions() as session:
        return int((await session.execute(select(func.count()).select_from(AuditEntry))).scalar_one())


async def test_dry_run_counts_and_deletes_nothing(
    seeded: Database, audit: AuditLog, box: SecretBox, clock: FakeClock
) -> None:
    await old_and_new(seeded, audit, box, clock)
    report = await retention.purge(seeded, audit, now=clock.now(), dry_run=True)
    bank = report.tenants[BANK]
    assert bank.counts["messages"] == 4 and bank.counts["webhook_envelopes"] == 1
    assert bank.counts["outbox_bodies"] == 2 and bank.counts["flow_sessions"] == 2
    assert await count(seeded, InboundMessage) == 6 and await count(seeded, WebhookEnvelope) == 2
    async with seeded.sessions() as session:
        runs = list((await session.execute(select(PurgeRun).where(PurgeRun.tenant_id == BANK))).scalars())
    assert len(runs) == 1 and runs[0].dry_run and runs[0].counts["messages"] == 4


async def test_purge_deletes_old_rows_keeps_held_ones_and_never_the_audit_log(
    seeded: Database, audit: AuditLog, box: SecretBox, clock: FakeClock
) -> None:
    await old_and_new(seeded, audit, box, clock)
    async with seeded.transaction() as session:
        await holds.set_hold(
            session,
            audit,
            tenant_id=BANK,
            wa_id=SITI,
            reason="ojk_examination",
            case_ref=None,
            actor="staff:officer",
            now=clock.now(),
        )
    before = await entries(seeded)
    report = await retention.purge(seeded, audit, now=clock.now())
    bank = report.tenants[BANK]
    assert bank.counts["messages"] == 2 and bank.held["messages"] == 2  # Budi's old ones go, Siti's are held
    assert await count(seeded, InboundMessage, InboundMessage.wa_id == SITI) == 2
    assert await count(seeded, InboundMessage, InboundMessage.wa_id == BUDI) == 2  # today's stay
    assert bank.counts["webhook_envelopes"] == 0 and bank.held["webhook_envelopes"] == 1  # they mix customers
    assert await count(seeded, FlowSession, FlowSession.wa_id == BUDI) == 1
    async with seeded.sessions() as session:
        bodies = [
            r.payload for r in (await session.execute(select(OutboxMessage).order_by(OutboxMessage.id))).scalars()
        ]
    assert (
        bodies[1] == retention.PURGED_BODY and bodies[0] != retention.PURGED_BODY and bodies[2] != retention.PURGED_BODY
    )
    after = await entries(seeded)
    assert after > before  # only appended to: one entry per class and tenant
    async with seeded.sessions() as session:
        purged = list(
            (
                await session.execute(
                    select(AuditEntry.fields).where(
                        AuditEntry.event_type == "retention.purged", AuditEntry.tenant_id == BANK
                    )
                )
            ).scalars()
        )
    assert {p["data_class"]: p["rows"] for p in purged}["messages"] == 2
    again = await retention.purge(seeded, audit, now=clock.now())
    assert again.tenants[BANK].counts["outbox_bodies"] == 0  # emptied bodies are not counted twice
    assert INSURER in again.tenants


async def test_a_tenant_hold_keeps_everything_of_the_tenant(
    seeded: Database, audit: AuditLog, box: SecretBox, clock: FakeClock
) -> None:
    await old_and_new(seeded, audit, box, clock)
    async with seeded.transaction() as session:
        await holds.set_hold(
            session,
            audit,
            tenant_id=BANK,
            wa_id=None,
            reason="litigation",
            case_ref="X-1",
            actor="staff:officer",
            now=clock.now(),
        )
    report = await retention.purge(seeded, audit, now=clock.now(), tenants=[BANK])
    assert set(report.tenants[BANK].counts.values()) == {0} and report.tenants[BANK].held["messages"] == 4
    assert await count(seeded, InboundMessage) == 6


async def test_bad_settings_are_refused_before_anything_is_purged(
    seeded: Database, audit: AuditLog, clock: FakeClock
) -> None:
    with pytest.raises(retention.RetentionError, match="never purged"):
        retention.policy({"audit_log": 30})
    with pytest.raises(retention.RetentionError, match="unknown data class"):
        retention.policy({"mesages": 30})
    with pytest.raises(retention.RetentionError, match="at least 1"):
        retention.policy({"messages": 0})
    with pytest.raises(retention.RetentionError, match="unknown tenant"):
        await retention.purge(seeded, audit, now=clock.now(), tenants=["nope"])
    assert retention.policy({"messages": 180})["messages"] == 180


async def test_envelopes_of_numbers_no_tenant_owns_are_purged_too(
    seeded: Database, audit: AuditLog, clock: FakeClock
) -> None:
    async with seeded.transaction() as session:
        session.add(
            WebhookEnvelope(
                body_sha256="f" * 64,
                received_at=clock.now() - timedelta(days=31),
                body=b"{}",
                parse_state="ok",
                phone_number_id="999999999999999",
            )
        )
    report = await retention.purge(seeded, audit, now=clock.now())
    assert report.tenants[retention.UNOWNED].counts == {"webhook_envelopes": 1}
    assert report.tenants[retention.PLATFORM].counts == {"staff_sessions": 0}
    assert await count(seeded, WebhookEnvelope) == 0
