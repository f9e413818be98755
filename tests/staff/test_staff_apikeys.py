"""API keys: shown once, stored hashed, scoped, rotated with an overlap, revocable."""

from __future__ import annotations

import hashlib
from typing import Annotated

import pytest
from fastapi import Depends
from sqlalchemy import select
from staff_harness import TENANT_A, TENANT_B, World

from loket.staff.apikeys import ApiKeyPrincipal
from loket.staff.errors import InvalidApiKey, InvalidRequest
from loket.staff.permissions import Role
from loket.staff.tables import ApiKey
from loket.staff.web import require_api_key


def _events_route(world: World) -> None:
    @world.app.post("/v1/events")
    async def events(caller: Annotated[ApiKeyPrincipal, Depends(require_api_key("events:write"))]) -> dict[str, str]:
        return {"tenant_id": caller.tenant_id}


async def test_a_key_is_shown_once_and_stored_as_a_hash(world: World) -> None:
    admin = await world.signed_in_as("admin@andalas.example", Role.TENANT_ADMIN)
    reply = await admin.post("/v1/staff/api-keys", {"name": "core banking", "scopes": ["events:write"]})
    assert reply.status == 201
    key = reply.json()["key"]
    prefix, tenant, random_part = key.split("_")
    assert (prefix, tenant, len(random_part)) == ("lkt", TENANT_A, 43) and random_part.isalnum()

    listed = (await admin.get("/v1/staff/api-keys")).json()["api_keys"]
    assert len(listed) == 1 and key not in str(listed)
    assert listed[0]["hint"].endswith(random_part[-4:]) and listed[0]["status"] == "active"
    async with world.db.transaction() as session:
        stored = (await session.scalars(select(ApiKey))).one()
    assert stored.key_sha256 == hashlib.sha256(key.encode()).hexdigest()
    assert "apikey.created" in world.audit.actions() and key not in str(world.audit.events)


async def test_verification_checks_scope_tenant_and_state(world: World) -> None:
    keys = world.staff.api_keys
    issued = await keys.create(None, name="lookups", scopes=["lookups:read"], tenant_id=TENANT_A)
    principal = await keys.verify(issued.key, "lookups:read")
    assert principal.tenant_id == TENANT_A and principal.scopes == {"lookups:read"}

    with pytest.raises(InvalidApiKey):
        await keys.verify(issued.key, "events:write")  # read-only key cannot write
    forged_tenant = issued.key.replace(f"lkt_{TENANT_A}_", f"lkt_{TENANT_B}_")
    for bad in (forged_tenant, issued.key[:-1] + "x", "lkt_bank-a_short", "Bearer x", "", None):
        with pytest.raises(InvalidApiKey):
            await keys.verify(bad, "lookups:read")
    with pytest.raises(InvalidRequest, match="scopes"):
        await keys.create(None, name="x", scopes=["admin:*"], tenant_id=TENANT_A)


async def test_rotation_keeps_the_old_key_for_the_overlap_only(world: World) -> None:
    _events_route(world)
    admin = await world.signed_in_as("admin@andalas.example", Role.TENANT_ADMIN)
    created = (await admin.post("/v1/staff/api-keys", {"name": "core", "scopes": ["events:write"]})).json()
    old_key, old_id = created["key"], created["api_key"]["id"]

    rotated = await admin.post(f"/v1/staff/api-keys/{old_id}/rotate", {"overlap_hours": 2})
    assert rotated.status == 201
    new_key = rotated.json()["key"]
    assert rotated.json()["api_key"]["rotated_from"] == old_id and new_key != old_key

    system = world.client("10.0.0.5")
    for key in (old_key, new_key):
        reply = await system.post("/v1/events", {}, headers={"Authorization": f"Bearer {key}"}, csrf=False)
        assert reply.status == 200 and reply.json() == {"tenant_id": TENANT_A}
    statuses = {k["id"]: k["status"] for k in (await admin.get("/v1/staff/api-keys")).json()["api_keys"]}
    assert statuses[old_id] == "expiring"

    world.clock.advance(2 * 3600)
    denied = await system.post("/v1/events", {}, headers={"Authorization": f"Bearer {old_key}"})
    assert denied.status == 401 and denied.header("www-authenticate") == "Bearer"
    assert (await system.post("/v1/events", {}, headers={"Authorization": f"Bearer {new_key}"})).status == 200
    admin = await world.again("admin@andalas.example")  # two idle hours ended the admin's session
    assert (await admin.post(f"/v1/staff/api-keys/{old_id}/rotate")).status == 422  # expired keys do not rotate
    too_long = await admin.post(f"/v1/staff/api-keys/{rotated.json()['api_key']['id']}/rotate", {"overlap_hours": 500})
    assert too_long.status == 422


async def test_revocation_is_immediate(world: World) -> None:
    _events_route(world)
    admin = await world.signed_in_as("admin@andalas.example", Role.TENANT_ADMIN)
    created = (await admin.post("/v1/staff/api-keys", {"name": "core", "scopes": ["events:write"]})).json()
    system = world.client("10.0.0.5")
    auth = {"Authorization": f"Bearer {created['key']}"}
    assert (await system.post("/v1/events", {}, headers=auth)).status == 200
    revoked = await admin.delete(f"/v1/staff/api-keys/{created['api_key']['id']}")
    assert revoked.status == 200 and revoked.json()["api_key"]["status"] == "revoked"
    assert (await system.post("/v1/events", {}, headers=auth)).status == 401
    assert "apikey.revoked" in world.audit.actions()


async def test_a_staff_session_is_not_an_api_key(world: World) -> None:
    _events_route(world)
    admin = await world.signed_in_as("admin@andalas.example", Role.TENANT_ADMIN)
    assert (await admin.post("/v1/events", {})).status == 401


async def test_only_key_managers_manage_keys(world: World) -> None:
    auditor = await world.signed_in_as("audit@andalas.example", Role.AUDITOR)
    assert (await auditor.get("/v1/staff/api-keys")).status == 403
    assert (await auditor.post("/v1/staff/api-keys", {"name": "x", "scopes": ["events:write"]})).status == 403
