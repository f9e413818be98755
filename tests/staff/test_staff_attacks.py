"""The attacks of issue 4 on staff identity, each played against the HTTP API."""

from __future__ import annotations

from datetime import timedelta

from staff_harness import GOOD_PASSWORD, TENANT_B, World, final_password

from loket.staff import totp
from loket.staff.permissions import Role
from loket.staff.web import COOKIE_NAME

LOGIN = "/v1/staff/login"


async def _fail(world: World, email: str, address: str = "203.0.113.9") -> int:
    reply = await world.client(address).post(LOGIN, {"email": email, "password": "Salah-sekali-123"})
    return reply.status


async def test_brute_force_backs_off_then_locks_the_login_for_15_minutes(world: World) -> None:
    await world.signed_in_as("target@andalas.example", Role.TENANT_ADMIN)
    right = {"email": "target@andalas.example", "password": final_password("target@andalas.example")}

    assert [await _fail(world, "target@andalas.example") for _ in range(3)] == [401, 401, 401]
    throttled = await world.client().post(LOGIN, right)
    assert throttled.status == 429  # inside the back-off: even the right password is not tried
    assert throttled.header("retry-after") == "1"

    for expected_delay in (1, 2, 4, 8, 16, 32, 60):
        world.clock.advance(expected_delay)
        assert await _fail(world, "target@andalas.example") == 401
    locked = await world.client().post(LOGIN, right)
    assert locked.status == 429 and int(locked.header("retry-after") or 0) == 15 * 60

    world.clock.advance(14 * 60)
    assert (await world.client().post(LOGIN, right)).status == 429
    world.clock.advance(61)
    assert (await world.client().post(LOGIN, right)).status == 200


async def test_unknown_and_known_logins_answer_alike(world: World) -> None:
    await world.add_user("known@andalas.example", Role.AGENT)
    known = await world.client().post(LOGIN, {"email": "known@andalas.example", "password": "Salah-sekali-123"})
    unknown = await world.client().post(LOGIN, {"email": "ghost@andalas.example", "password": "Salah-sekali-123"})
    assert known.status == unknown.status == 401
    assert known.json() == unknown.json() == {"detail": "invalid email or password"}
    for _ in range(2):
        await _fail(world, "known@andalas.example")
        await _fail(world, "ghost@andalas.example")
    again_known = await world.client().post(LOGIN, {"email": "known@andalas.example", "password": "x" * 12})
    again_unknown = await world.client().post(LOGIN, {"email": "ghost@andalas.example", "password": "x" * 12})
    assert again_known.status == again_unknown.status == 429  # lockout says nothing about existence


async def test_password_spraying_from_one_address_is_cut_off(world: World) -> None:
    for index in range(5):
        await world.add_user(f"staff{index}@andalas.example", Role.AGENT)
    statuses = []
    for attempt in range(25):
        email = f"staff{attempt % 5}@andalas.example" if attempt % 2 else f"nobody{attempt}@andalas.example"
        statuses.append(await _fail(world, email, address="203.0.113.50"))
    assert statuses[:20] == [401] * 20
    assert set(statuses[20:]) == {429}
    # another address is not affected, and the window passes
    assert await _fail(world, "staff1@andalas.example", address="203.0.113.51") in (401, 429)
    world.clock.advance(60)
    assert await _fail(world, "nobody-new@andalas.example", address="203.0.113.50") == 401


async def test_a_replayed_totp_code_is_rejected(world: World) -> None:
    await world.signed_in_as("rudi@andalas.example", Role.AGENT)
    password = {"email": "rudi@andalas.example", "password": final_password("rudi@andalas.example")}
    world.clock.advance(30)
    code = totp.code_at(world.secrets["rudi@andalas.example"], world.clock.now())

    first = world.client()
    await first.post(LOGIN, password)
    assert (await first.post("/v1/staff/totp/verify", {"code": code})).status == 200

    eavesdropper = world.client("192.0.2.66")
    await eavesdropper.post(LOGIN, password)
    replay = await eavesdropper.post("/v1/staff/totp/verify", {"code": code})
    assert replay.status == 401 and replay.json() == {"detail": "invalid or already used code"}
    # the code of the step before the one used is no good either, though still inside the drift window
    world.clock.advance(5)
    older = totp.code_at(world.secrets["rudi@andalas.example"], world.clock.now() - timedelta(seconds=30))
    assert (await eavesdropper.post("/v1/staff/totp/verify", {"code": older})).status == 401


async def test_guessing_totp_codes_ends_the_session(world: World) -> None:
    await world.signed_in_as("sari@andalas.example", Role.AGENT)
    client = world.client()
    await client.post(LOGIN, {"email": "sari@andalas.example", "password": final_password("sari@andalas.example")})
    for guess, wait in (("000000", 0), ("111111", 0), ("222222", 0), ("333333", 1), ("444444", 2)):
        world.clock.advance(wait)  # wrong codes count against the login's back-off too
        assert (await client.post("/v1/staff/totp/verify", {"code": guess})).status == 401
    world.clock.advance(30)
    right = totp.code_at(world.secrets["sari@andalas.example"], world.clock.now())
    assert (await client.post("/v1/staff/totp/verify", {"code": right})).status == 401  # session revoked


async def test_a_stolen_cookie_is_worthless_after_logout(world: World) -> None:
    victim = await world.signed_in_as("tono@andalas.example", Role.SUPERVISOR)
    thief = world.client("192.0.2.99")
    thief.cookies = dict(victim.cookies)
    thief.csrf = victim.csrf
    assert (await thief.get("/v1/staff/me")).status == 200

    logout = await victim.post("/v1/staff/logout")
    assert logout.status == 204 and victim.session_cookie is None
    assert (await thief.get("/v1/staff/me")).status == 401
    assert (await thief.post("/v1/staff/tenant", {"tenant_id": "bank-a"})).status == 401


async def test_revoke_all_ends_every_session_of_the_user(world: World) -> None:
    laptop = await world.signed_in_as("umar@andalas.example", Role.AGENT)
    phone = await world.again("umar@andalas.example")
    reply = await phone.post("/v1/staff/sessions/revoke-all")
    assert reply.status == 200 and reply.json() == {"revoked": 2}
    assert (await laptop.get("/v1/staff/me")).status == 401
    assert (await phone.get("/v1/staff/me")).status == 401


async def test_a_forged_cookie_is_refused(world: World) -> None:
    forger = world.client()
    for value in ("", "x", "A" * 43, "A" * 500):
        forger.cookies[COOKIE_NAME] = value
        assert (await forger.get("/v1/staff/me")).status == 401


async def test_csrf_on_state_changing_requests(world: World) -> None:
    admin = await world.signed_in_as("vina@andalas.example", Role.TENANT_ADMIN)
    other = await world.signed_in_as("wati@andalas.example", Role.AGENT)
    body = {"name": "core banking", "scopes": ["events:write"]}

    missing = await admin.post("/v1/staff/api-keys", body, csrf=False)
    assert missing.status == 403 and "CSRF" in missing.json()["detail"]
    wrong = await admin.post("/v1/staff/api-keys", body, headers={"X-CSRF-Token": "0" * 64})
    assert wrong.status == 403
    borrowed = await admin.post("/v1/staff/api-keys", body, headers={"X-CSRF-Token": other.csrf or ""})
    assert borrowed.status == 403
    assert (await admin.post("/v1/staff/logout", csrf=False)).status == 403
    assert (await admin.get("/v1/staff/me", csrf=False)).status == 200  # reading needs no token

    # an HTML form post carries the token as a field
    form = await admin.request(
        "POST", "/v1/staff/sessions/revoke-all", form={"csrf_token": admin.csrf or ""}, csrf=False
    )
    assert form.status == 200
    assert (await world.client().post("/v1/staff/api-keys", body, csrf=False)).status == 401


async def test_idor_on_another_tenants_staff_and_keys(world: World) -> None:
    admin_a = await world.signed_in_as("xena@andalas.example", Role.TENANT_ADMIN)
    victim_b = await world.add_user("yudi@bahari.example", Role.AGENT, tenant=TENANT_B)
    key_b = await world.staff.api_keys.create(None, name="core", scopes=["events:write"], tenant_id=TENANT_B)

    reset = await admin_a.post(f"/v1/staff/users/{victim_b}/reset-password")
    assert reset.status == 404
    grab = await admin_a.post(f"/v1/staff/users/{victim_b}/roles", {"role": "tenant_admin"})
    assert grab.status == 404
    sideways = await admin_a.post(f"/v1/staff/users/{victim_b}/roles", {"role": "agent", "tenant_id": TENANT_B})
    assert sideways.status == 404
    missing = await admin_a.post("/v1/staff/users/0123456789abcdef0123456789abcdef/reset-password")
    assert missing.status == 404 and missing.json() == reset.json()  # indistinguishable from absent

    assert (await admin_a.delete(f"/v1/staff/api-keys/{key_b.view.id}")).status == 404
    assert (await admin_a.post(f"/v1/staff/api-keys/{key_b.view.id}/rotate")).status == 404
    listed = (await admin_a.get("/v1/staff/api-keys")).json()["api_keys"]
    assert key_b.view.id not in {k["id"] for k in listed}
    users = (await admin_a.get("/v1/staff/users")).json()["users"]
    assert victim_b not in {u["id"] for u in users}
    assert (await world.staff.api_keys.verify(key_b.key, "events:write")).tenant_id == TENANT_B  # untouched


async def test_a_tenant_a_session_cannot_reach_tenant_b(world: World) -> None:
    agent_a = await world.signed_in_as("zaki@andalas.example", Role.TENANT_ADMIN)
    assert (await agent_a.post("/v1/staff/tenant", {"tenant_id": TENANT_B})).status == 403
    assert (await agent_a.post("/v1/staff/tenant", {"tenant_id": None})).status == 403
    me = (await agent_a.get("/v1/staff/me")).json()
    assert me["tenant_id"] == "bank-a"
    # asking for tenant B at login is ignored for a non-member
    client = world.client()
    email = "zaki@andalas.example"
    await client.post(LOGIN, {"email": email, "password": final_password(email), "tenant_id": TENANT_B})
    await client.post("/v1/staff/totp/verify", {"code": world.code(email)})
    assert (await client.get("/v1/staff/me")).json()["tenant_id"] == "bank-a"


async def test_losing_the_role_in_the_bound_tenant_closes_access(world: World) -> None:
    agent = await world.signed_in_as("ani@andalas.example", Role.AGENT)
    admin = await world.signed_in_as("boss@andalas.example", Role.TENANT_ADMIN)
    me = (await agent.get("/v1/staff/me")).json()
    reply = await admin.post(f"/v1/staff/users/{me['user']['id']}/roles", {"role": None})
    assert reply.status == 200
    assert (await agent.get("/v1/staff/me")).status == 401  # no role left anywhere: sessions revoked


async def test_idle_sessions_expire_after_30_minutes(world: World) -> None:
    client = await world.signed_in_as("idle@andalas.example", Role.AGENT)
    world.clock.advance(29 * 60)
    assert (await client.get("/v1/staff/me")).status == 200
    world.clock.advance(29 * 60)
    assert (await client.get("/v1/staff/me")).status == 200  # activity keeps it alive
    world.clock.advance(30 * 60 + 1)
    assert (await client.get("/v1/staff/me")).status == 401


async def test_busy_sessions_still_end_after_12_hours(world: World) -> None:
    client = await world.signed_in_as("busy@andalas.example", Role.AGENT)
    started = world.clock.now()
    while (world.clock.now() - started).total_seconds() < 12 * 3600 - 25 * 60:
        world.clock.advance(20 * 60)
        assert (await client.get("/v1/staff/me")).status == 200
    world.clock.advance(25 * 60)
    assert (await client.get("/v1/staff/me")).status == 401


async def test_an_abandoned_sign_in_expires_after_10_minutes(world: World) -> None:
    await world.add_user("slow@andalas.example", Role.AGENT)
    client = world.client()
    await client.post(LOGIN, {"email": "slow@andalas.example", "password": GOOD_PASSWORD})
    world.clock.advance(10 * 60)
    assert (await client.post("/v1/staff/totp/enrol")).status == 401
