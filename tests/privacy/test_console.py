"""The console pages of data-subject requests (dsr.manage): list with deadlines and overdue flags,
detail with evidence, the allowed steps as forms, legal holds; other roles and tenants see nothing."""

from __future__ import annotations

from console.console_harness import TENANT_A, TENANT_B, ConsoleWorld, console_world
from loket.privacy import requests
from loket.privacy.model import Channel, Right, Status
from loket.staff.permissions import Role

__all__ = ["console_world"]
SITI = "6281299990001"


async def opened(world: ConsoleWorld, right: Right, tenant: str = TENANT_A) -> str:
    assert world.log is not None
    async with world.db.transaction() as session:
        row = await requests.open_request(
            session,
            world.log,
            requests.Subject(tenant, SITI),
            right,
            channel=Channel.WHATSAPP,
            actor="customer:whatsapp",
            now=world.clock.now(),
        )
        return row.reference


async def test_officer_lists_verifies_and_rejects(console_world: ConsoleWorld) -> None:
    world = console_world
    correction = await opened(world, Right.CORRECTION)
    erasure = await opened(world, Right.ERASURE)
    other = await opened(world, Right.ACCESS, tenant=TENANT_B)
    world.clock.advance(73 * 3600)  # past the 3x24-hour clock (before signing in: sessions time out)
    _, officer = await world.member("dpo@bank-a.test", Role.COMPLIANCE_OFFICER)
    page = await officer.get("/console/privacy")
    text = page.body.decode()
    assert page.status == 200 and correction in text and erasure in text and other not in text
    assert "Terlambat" in text and SITI not in text
    detail = await officer.get(f"/console/privacy/requests/{erasure}")
    assert detail.status == 200 and "Identitas sudah diperiksa" in detail.body.decode()
    done = await officer.request("POST", f"/console/privacy/requests/{erasure}/verify", form={})
    assert done.status == 303
    refused = await officer.request("POST", f"/console/privacy/requests/{erasure}/complete", form={})
    assert refused.status == 303 and refused.header("location").endswith(
        "?error=refused"
    )  # erasure is erased, not ticked
    rejected = await officer.request(
        "POST", f"/console/privacy/requests/{correction}/reject", form={"reason": "duplicate"}
    )
    assert rejected.status == 303
    async with world.db.sessions() as session:
        assert (await requests.get(session, TENANT_A, erasure)).status == Status.IN_PROGRESS
        row = await requests.get(session, TENANT_A, correction)
    assert row.status == Status.REJECTED and row.rejection_reason == "duplicate"
    assert (await officer.get(f"/console/privacy/requests/{other}")).status == 404  # another tenant's
    kinds = await world.audit_kinds()
    assert "dsr.step" in kinds and "dsr.completed" in kinds


async def test_holds_from_the_console(console_world: ConsoleWorld) -> None:
    _, officer = await console_world.member("dpo@bank-a.test", Role.COMPLIANCE_OFFICER)
    bad = await officer.request("POST", "/console/privacy/holds", form={"wa_id": "abc", "reason": "litigation"})
    assert bad.status == 303 and bad.header("location").endswith("?error=wa_id")
    made = await officer.request("POST", "/console/privacy/holds", form={"wa_id": SITI, "reason": "litigation"})
    assert made.status == 303
    page = (await officer.get("/console/privacy")).body.decode()
    assert "litigation" in page and "Cabut" in page
    assert "legal_hold.changed" in await console_world.audit_kinds()


async def test_other_roles_cannot_open_the_pages(console_world: ConsoleWorld) -> None:
    await opened(console_world, Right.ACCESS)
    _, agent = await console_world.member("agent@bank-a.test", Role.AGENT)
    assert (await agent.get("/console/privacy")).status == 403
    assert (await agent.request("POST", "/console/privacy/holds", form={"reason": "x"})).status == 403
