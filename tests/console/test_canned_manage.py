"""Canned responses: supervisors manage them per tenant, agents only use them, changes are audited."""

from __future__ import annotations

from conversation_harness import Desk, desk, page_text
from sqlalchemy import select

from loket.console.canned import CannedInvalid, fill, unknown_variables, variable_values
from loket.console.conversation_tables import CannedResponse
from loket.db.scope import SystemReason
from loket.staff.permissions import Role
from staff.staff_harness import TENANT_A, TENANT_B

__all__ = ["desk"]

GREETING = {"shortcut": "salam", "title": "Salam", "language": "id", "body": "Halo {{nama}}, saya {{agent}}."}


def test_variables_are_filled_and_unknown_ones_refused() -> None:
    values = variable_values(first_name="Budi", agent="Rina", institution="Bank Andalas", date="30 November 2026")
    assert fill("Halo {{ nama }}, saya {{agent}} dari {{institution}}, {{tanggal}}.", values) == (
        "Halo Budi, saya Rina dari Bank Andalas, 30 November 2026."
    )
    assert unknown_variables("{{nama}} {{pin}} {{saldo}}") == ["pin", "saldo"]
    try:
        fill("{{pin}}", values)
    except CannedInvalid as exc:
        assert exc.code == "variable"
    else:
        raise AssertionError("an unknown variable must be refused")


async def rows(desk: Desk) -> list[CannedResponse]:
    async with desk.db.system_session(SystemReason.PLATFORM_ADMIN) as session:
        return list((await session.execute(select(CannedResponse).order_by(CannedResponse.id))).scalars().all())


async def test_a_supervisor_creates_changes_and_retires_a_canned_response(desk: Desk) -> None:
    supervisor = await desk.staff("spv@bank-a.test", Role.SUPERVISOR)

    assert (await supervisor.form("/console/canned", GREETING)).status == 303
    changed = {**GREETING, "body": "Selamat pagi {{nama}}."}
    assert (await supervisor.form("/console/canned", changed)).status == 422  # same shortcut and language
    [row] = await rows(desk)
    assert (await supervisor.form("/console/canned", {**changed, "id": str(row.id)})).status == 303
    [row] = await rows(desk)
    assert row.body == "Selamat pagi {{nama}}." and row.tenant_id == TENANT_A
    page = page_text(await supervisor.get("/console/canned"))
    assert "/salam" in page and "Selamat pagi" in page

    assert (await supervisor.form(f"/console/canned/{row.id}/retire", {})).status == 303
    [row] = await rows(desk)
    assert row.active is False
    changes = await desk.audit_entries(TENANT_A, "config.changed")
    assert [entry.fields["setting"] for entry in changes] == ["console.canned_response"] * 3
    assert "Selamat" not in str([entry.fields for entry in changes])  # digests only


async def test_bad_input_is_refused_with_the_reason_and_kept(desk: Desk) -> None:
    supervisor = await desk.staff("spv@bank-a.test", Role.SUPERVISOR)

    refused = await supervisor.form("/console/canned", {**GREETING, "shortcut": "Salam Pagi!"})
    assert refused.status == 422 and "Pintasan hanya huruf kecil" in page_text(refused)
    assert "Halo {{nama}}, saya {{agent}}." in page_text(refused)
    unknown = await supervisor.form("/console/canned", {**GREETING, "body": "Saldo Anda {{saldo}}"})
    assert unknown.status == 422 and "variabel yang tidak dikenal" in page_text(unknown)
    assert await rows(desk) == []


async def test_agents_cannot_manage_and_tenants_do_not_see_each_others(desk: Desk) -> None:
    other = await desk.staff("spv@bank-b.test", Role.SUPERVISOR, tenant=TENANT_B)
    assert (await other.form("/console/canned", GREETING)).status == 303
    [theirs] = await rows(desk)

    agent = await desk.staff("agen@bank-a.test", Role.AGENT)
    assert (await agent.get("/console/canned")).status == 403
    assert (await agent.form("/console/canned", GREETING)).status == 403

    supervisor = await desk.staff("spv@bank-a.test", Role.SUPERVISOR)
    assert "/salam" not in page_text(await supervisor.get("/console/canned"))
    assert (await supervisor.form(f"/console/canned/{theirs.id}/retire", {})).status == 404
    edit = await supervisor.form("/console/canned", {**GREETING, "id": str(theirs.id)})
    assert edit.status == 404
    [still] = await rows(desk)
    assert still.active and still.tenant_id == TENANT_B
