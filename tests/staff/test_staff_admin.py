"""Administrators manage accounts and roles; nobody else does, and only within their reach."""

from __future__ import annotations

import pytest
from staff_harness import GOOD_PASSWORD, TENANT_A, TENANT_B, World, final_password

from loket.staff.access import Principal
from loket.staff.errors import Conflict, Forbidden, InvalidRequest
from loket.staff.passwords import WeakPassword
from loket.staff.permissions import Role

LOGIN = "/v1/staff/login"


async def test_tenant_admin_creates_a_user_who_must_enrol_and_change_the_password(world: World) -> None:
    admin = await world.signed_in_as("admin@andalas.example", Role.TENANT_ADMIN)
    reply = await admin.post(
        "/v1/staff/users", {"email": "new@andalas.example", "display_name": "Nur", "role": "compliance_officer"}
    )
    assert reply.status == 201
    body = reply.json()
    assert body["user"]["memberships"] == [{"tenant_id": TENANT_A, "role": "compliance_officer"}]
    temporary = body["temporary_password"]
    assert len(temporary) >= 12

    client = await world.sign_in("new@andalas.example", temporary)
    me = (await client.get("/v1/staff/me")).json()
    assert me["role"] == "compliance_officer" and "templates.approve" in me["permissions"]
    assert "staff.user.created" in world.audit.actions()

    duplicate = await admin.post(
        "/v1/staff/users", {"email": "NEW@andalas.example", "display_name": "Nur", "role": "agent"}
    )
    assert duplicate.status == 409


async def test_only_administrators_manage_staff(world: World) -> None:
    supervisor = await world.signed_in_as("sup@andalas.example", Role.SUPERVISOR)
    reply = await supervisor.post(
        "/v1/staff/users", {"email": "x@andalas.example", "display_name": "X", "role": "agent"}
    )
    assert reply.status == 403 and "staff.manage" in reply.json()["detail"]


async def test_tenant_admin_cannot_create_platform_admins_or_weak_passwords(world: World) -> None:
    admin = await world.signed_in_as("admin@andalas.example", Role.TENANT_ADMIN)
    reply = await admin.post(
        "/v1/staff/users", {"email": "root@andalas.example", "display_name": "Root", "role": "platform_admin"}
    )
    assert reply.status == 403
    weak = await admin.post(
        "/v1/staff/users",
        {"email": "lemah@andalas.example", "display_name": "Lemah", "role": "agent", "password": "andalas2024!!"},
    )
    assert weak.status == 422
    assert any("institution" in p for p in weak.json()["detail"]["problems"])


async def test_reset_password_revokes_sessions_and_forces_a_change(world: World) -> None:
    admin = await world.signed_in_as("admin@andalas.example", Role.TENANT_ADMIN)
    agent = await world.signed_in_as("agen@andalas.example", Role.AGENT)
    agent_id = (await agent.get("/v1/staff/me")).json()["user"]["id"]

    reply = await admin.post(f"/v1/staff/users/{agent_id}/reset-password")
    assert reply.status == 200
    temporary = reply.json()["temporary_password"]
    assert (await agent.get("/v1/staff/me")).status == 401
    old = await world.client().post(
        LOGIN, {"email": "agen@andalas.example", "password": final_password("agen@andalas.example")}
    )
    assert old.status == 401

    client = world.client()
    await client.post(LOGIN, {"email": "agen@andalas.example", "password": temporary})
    reply = await client.post("/v1/staff/totp/verify", {"code": world.code("agen@andalas.example")})
    assert reply.json()["state"] == "password_change_required"  # TOTP kept, password must change
    assert "staff.password.reset" in world.audit.actions()


async def test_reset_can_force_totp_re_enrolment(world: World) -> None:
    admin = await world.signed_in_as("admin@andalas.example", Role.TENANT_ADMIN)
    agent_id = await world.add_user("hilang@andalas.example", Role.AGENT)
    await world.sign_in("hilang@andalas.example")
    reply = await admin.post(f"/v1/staff/users/{agent_id}/reset-password", {"reset_totp": True})
    client = world.client()
    login = await client.post(
        LOGIN, {"email": "hilang@andalas.example", "password": reply.json()["temporary_password"]}
    )
    assert login.json()["state"] == "enrolment_required"


async def test_an_admin_reset_unlocks_a_locked_login(world: World) -> None:
    admin = await world.signed_in_as("admin@andalas.example", Role.TENANT_ADMIN)
    agent_id = await world.add_user("kunci@andalas.example", Role.AGENT)
    for _ in range(10):
        world.clock.advance(60)
        await world.client().post(LOGIN, {"email": "kunci@andalas.example", "password": "Bukan-ini-123"})
    locked = await world.client().post(LOGIN, {"email": "kunci@andalas.example", "password": GOOD_PASSWORD})
    assert locked.status == 429
    temporary = (await admin.post(f"/v1/staff/users/{agent_id}/reset-password")).json()["temporary_password"]
    assert (await world.client().post(LOGIN, {"email": "kunci@andalas.example", "password": temporary})).status == 200


async def test_tenant_admin_cannot_reset_an_account_reaching_beyond_the_tenant(world: World) -> None:
    user_id = await world.add_user("dua@andalas.example", Role.AGENT)
    await world.staff.accounts.set_role(None, user_id, Role.AGENT, tenant_id=TENANT_B)
    admin = await world.signed_in_as("admin@andalas.example", Role.TENANT_ADMIN)
    reply = await admin.post(f"/v1/staff/users/{user_id}/reset-password")
    assert reply.status == 403 and "platform administrator" in reply.json()["detail"]


async def test_nobody_changes_their_own_role_or_resets_their_own_password(world: World) -> None:
    admin = await world.signed_in_as("admin@andalas.example", Role.TENANT_ADMIN)
    own_id = (await admin.get("/v1/staff/me")).json()["user"]["id"]
    assert (await admin.post(f"/v1/staff/users/{own_id}/roles", {"role": "auditor"})).status == 403
    assert (await admin.post(f"/v1/staff/users/{own_id}/reset-password")).status == 403


async def test_roles_are_granted_changed_and_removed_with_an_audit_trail(world: World) -> None:
    admin = await world.signed_in_as("admin@andalas.example", Role.TENANT_ADMIN)
    user_id = await world.add_user("peran@andalas.example", Role.AGENT)
    reply = await admin.post(f"/v1/staff/users/{user_id}/roles", {"role": "fraud_analyst"})
    assert reply.json()["user"]["memberships"] == [{"tenant_id": TENANT_A, "role": "fraud_analyst"}]
    event = world.audit.events[-1]
    assert event.action == "staff.role.changed"
    assert dict(event.details) == {"before": "agent", "after": "fraud_analyst"}
    assert event.actor_id is not None and event.target_id == user_id and event.tenant_id == TENANT_A
    assert (await admin.post(f"/v1/staff/users/{user_id}/roles", {"role": "platform_admin"})).status == 403
    assert (await admin.post(f"/v1/staff/users/{user_id}/roles", {"role": None, "platform": True})).status == 403


async def test_platform_admin_works_across_tenants(world: World) -> None:
    root = await world.signed_in_as("root@loket.example", Role.PLATFORM_ADMIN, tenant=None)
    me = (await root.get("/v1/staff/me")).json()
    assert me["tenant_id"] is None and me["role"] == "platform_admin"
    assert "conversations.read" not in me["permissions"]  # operators do not read customer data

    assert (
        await root.post("/v1/staff/users", {"email": "a@b.example", "display_name": "A", "role": "agent"})
    ).status == 422
    assert (await root.post("/v1/staff/tenant", {"tenant_id": "bank-z"})).status == 404
    assert (await root.post("/v1/staff/tenant", {"tenant_id": TENANT_B})).status == 200
    reply = await root.post(
        "/v1/staff/users", {"email": "admin@bahari.example", "display_name": "Admin B", "role": "tenant_admin"}
    )
    assert reply.status == 201
    user_id = reply.json()["user"]["id"]
    both = await root.post(f"/v1/staff/users/{user_id}/roles", {"role": "auditor", "tenant_id": TENANT_A})
    assert {m["tenant_id"] for m in both.json()["user"]["memberships"]} == {TENANT_A, TENANT_B}
    assert (await root.post(f"/v1/staff/users/{user_id}/reset-password")).status == 200


async def test_service_errors_are_typed(world: World) -> None:
    accounts = world.staff.accounts
    with pytest.raises(InvalidRequest, match="email"):
        await accounts.create_user(None, email="no-at-sign", display_name="X", role=Role.AGENT, tenant_id=TENANT_A)
    with pytest.raises(InvalidRequest, match="needs a tenant"):
        await accounts.create_user(None, email="x@y.example", display_name="X", role=Role.AGENT)
    with pytest.raises(WeakPassword) as weak:
        await accounts.create_user(
            None, email="x@y.example", display_name="X", role=Role.AGENT, tenant_id=TENANT_A, password="sayangku"
        )
    assert len(weak.value.problems) == 2
    await world.add_user("sama@andalas.example", Role.AGENT)
    with pytest.raises(Conflict):
        await world.add_user("sama@andalas.example", Role.AGENT, tenant=TENANT_B)
    platform = await world.add_user("op@loket.example", Role.PLATFORM_ADMIN, tenant=None)
    actor = Principal(user_id="someone", session_id="s", tenant_id=TENANT_A, role=Role.TENANT_ADMIN)
    with pytest.raises(Forbidden):
        await accounts.set_role(actor, platform, None, platform=True)
