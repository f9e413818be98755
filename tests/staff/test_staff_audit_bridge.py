"""Staff events reach the verifiable audit log, in the same transaction as the change they record."""

from __future__ import annotations

from sqlalchemy import select
from staff_harness import FAST_HASHING, MASTER_KEY, TENANT_A, World

from loket.audit import AuditLog, Pseudonymizer
from loket.audit.tables import AuditEntry
from loket.staff.audit_bridge import PLATFORM_TENANT, LoketAudit, translate
from loket.staff.permissions import Role
from loket.staff.service import StaffService


def _use_audit_log(world: World) -> None:
    log = AuditLog(world.db, Pseudonymizer(MASTER_KEY), clock=world.clock)
    world.staff = StaffService.build(
        world.db, MASTER_KEY, clock=world.clock, hashing=FAST_HASHING, audit=LoketAudit(log)
    )
    world.app.state.staff = world.staff


async def _entries(world: World) -> list[tuple[str, str, str | None, dict[str, object]]]:
    async with world.db.transaction() as session:
        rows = await session.scalars(select(AuditEntry).order_by(AuditEntry.tenant_id, AuditEntry.seq))
        return [(r.tenant_id, r.event_type, r.actor, dict(r.fields)) for r in rows]


async def test_sign_in_admin_actions_and_keys_are_in_the_tenant_log(world: World) -> None:
    _use_audit_log(world)
    admin = await world.signed_in_as("admin@andalas.example", Role.TENANT_ADMIN)
    agent_id = await world.add_user("agen@andalas.example", Role.AGENT)
    assert (await admin.post(f"/v1/staff/users/{agent_id}/roles", {"role": "supervisor"})).status == 200
    assert (await admin.post(f"/v1/staff/users/{agent_id}/reset-password", {"reset_totp": True})).status == 200
    key = (await admin.post("/v1/staff/api-keys", {"name": "core", "scopes": ["events:write"]})).json()
    assert (await admin.post(f"/v1/staff/api-keys/{key['api_key']['id']}/rotate")).status == 201
    await world.client().post("/v1/staff/login", {"email": "ghost@andalas.example", "password": "x" * 12})
    assert (await admin.post("/v1/staff/logout")).status == 204

    entries = await _entries(world)
    tenant_a = [(kind, fields) for tenant, kind, _, fields in entries if tenant == TENANT_A]
    kinds = [kind for kind, _ in tenant_a]
    assert kinds == [
        "permission.granted",  # admin created by the CLI
        "staff.totp_enrolled",
        "staff.login",
        "key.changed",  # the admin replaces the temporary password
        "permission.granted",  # agent created by the CLI
        "permission.revoked",
        "permission.granted",
        "key.changed",  # password reset
        "key.changed",  # TOTP reset
        "key.changed",  # API key created
        "key.changed",  # API key rotated
        "staff.logout",
    ]
    assert tenant_a[5][1]["permission"] == "role:agent" and tenant_a[6][1]["permission"] == "role:supervisor"
    assert {f["purpose"] for k, f in tenant_a if k == "key.changed"} == {"staff_password", "staff_totp", "api_key"}
    platform = [(kind, fields) for tenant, kind, _, fields in entries if tenant == PLATFORM_TENANT]
    assert platform == [("staff.login_failed", {"reason": "bad_password"})]
    assert "ghost" not in str(entries) and "andalas.example" not in str(entries)  # no email in the log


async def test_every_staff_event_has_a_mapping(world: World) -> None:
    admin = await world.signed_in_as("admin@andalas.example", Role.TENANT_ADMIN)
    agent_id = await world.add_user("agen@andalas.example", Role.AGENT)
    await admin.post(f"/v1/staff/users/{agent_id}/roles", {"role": None})
    await admin.post(f"/v1/staff/users/{agent_id}/reset-password")
    key = (await admin.post("/v1/staff/api-keys", {"name": "core", "scopes": ["events:write"]})).json()
    await admin.post(f"/v1/staff/api-keys/{key['api_key']['id']}/rotate")
    await admin.delete(f"/v1/staff/api-keys/{key['api_key']['id']}")
    await admin.post("/v1/staff/password", {"current_password": "wrong", "new_password": "Apa-saja-boleh-99"})
    await world.client().post("/v1/staff/login", {"email": "admin@andalas.example", "password": "nope"})
    await admin.post("/v1/staff/sessions/revoke-all")
    actions = set(world.audit.actions())
    assert {"staff.login", "staff.user.created", "staff.role.changed", "apikey.revoked"} <= actions
    for event in world.audit.events:
        translate(event)  # raises for an unmapped action
