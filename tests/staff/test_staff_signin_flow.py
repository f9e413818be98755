from __future__ import annotations

from sqlalchemy import select
from staff_harness import GOOD_PASSWORD, MASTER_KEY, TENANT_A, World, final_password

from loket.staff import totp
from loket.staff.passwords import HashParameters, Passwords
from loket.staff.permissions import Role
from loket.staff.service import StaffService
from loket.staff.tables import StaffBackupCode, StaffUser
from loket.staff.web import COOKIE_NAME


async def test_first_sign_in_enrols_totp_then_forces_a_password_change(world: World) -> None:
    await world.add_user("siti@andalas.example", Role.AGENT)
    client = world.client()

    reply = await client.post("/v1/staff/login", {"email": "Siti@Andalas.example ", "password": GOOD_PASSWORD})
    assert reply.status == 200
    assert reply.json()["state"] == "enrolment_required"
    assert (await client.get("/v1/staff/me")).status == 401  # a password alone opens nothing

    enrolment = (await client.post("/v1/staff/totp/enrol")).json()
    assert enrolment["provisioning_uri"].startswith("otpauth://totp/Loket:siti%40andalas.example?")
    assert enrolment["qr_svg"].startswith("<svg")
    world.secrets["siti@andalas.example"] = enrolment["secret"]

    reply = await client.post("/v1/staff/totp/verify", {"code": world.code("siti@andalas.example")})
    assert reply.status == 200
    body = reply.json()
    assert body["state"] == "password_change_required"
    assert len(body["backup_codes"]) == 10 and len(set(body["backup_codes"])) == 10
    assert (await client.get("/v1/staff/me")).status == 401  # the temporary password must go first

    change = {"current_password": GOOD_PASSWORD, "new_password": final_password("siti@andalas.example")}
    reply = await client.post("/v1/staff/password", change)
    assert reply.status == 200 and reply.json()["state"] == "active"

    me = (await client.get("/v1/staff/me")).json()
    assert me["role"] == "agent" and me["tenant_id"] == TENANT_A
    assert "conversations.reply" in me["permissions"] and "customers.pii.reveal" not in me["permissions"]
    assert me["user"]["must_change_password"] is False and me["user"]["totp_enrolled"] is True
    assert me["csrf_token"] == client.csrf


async def test_the_next_sign_in_asks_for_totp_and_no_new_backup_codes(world: World) -> None:
    await world.signed_in_as("budi@andalas.example", Role.SUPERVISOR)
    client = world.client()
    reply = await client.post(
        "/v1/staff/login", {"email": "budi@andalas.example", "password": final_password("budi@andalas.example")}
    )
    assert reply.json()["state"] == "totp_required"
    assert (await client.post("/v1/staff/totp/enrol")).status == 409  # no re-enrolment by the user alone
    reply = await client.post("/v1/staff/totp/verify", {"code": world.code("budi@andalas.example")})
    assert reply.json() == {"state": "active", "csrf_token": client.csrf}


async def test_session_cookie_is_host_only_secure_httponly_strict(world: World) -> None:
    await world.add_user("ayu@andalas.example", Role.AGENT)
    client = world.client()
    reply = await client.post("/v1/staff/login", {"email": "ayu@andalas.example", "password": GOOD_PASSWORD})
    (cookie,) = reply.set_cookies()
    attributes = [part.strip().lower() for part in cookie.split(";")]
    assert cookie.startswith(f"{COOKIE_NAME}=")
    assert {"secure", "httponly", "samesite=strict", "path=/"} <= set(attributes)
    assert not any(a.startswith("domain=") for a in attributes)
    assert reply.header("cache-control") == "no-store"


async def test_the_token_changes_at_every_step_and_old_tokens_die(world: World) -> None:
    await world.add_user("rina@andalas.example", Role.AGENT)
    client = world.client()
    await client.post("/v1/staff/login", {"email": "rina@andalas.example", "password": GOOD_PASSWORD})
    pending_cookie, pending_csrf = client.session_cookie, client.csrf
    await world.sign_in("rina@andalas.example", client=client)  # logs in again on the same client
    assert client.session_cookie != pending_cookie

    fixated = world.client()
    fixated.cookies[COOKIE_NAME], fixated.csrf = pending_cookie or "", pending_csrf
    assert (await fixated.get("/v1/staff/me")).status == 401


async def test_totp_secret_is_sealed_and_backup_codes_are_hashed(world: World) -> None:
    await world.signed_in_as("dewi@andalas.example", Role.AGENT)
    secret = world.secrets["dewi@andalas.example"]
    async with world.db.transaction() as session:
        user = await session.scalar(select(StaffUser).where(StaffUser.email == "dewi@andalas.example"))
        assert user is not None and user.totp_secret_enc is not None
        assert secret.encode() not in user.totp_secret_enc
        assert user.password_hash.startswith("$argon2id$")
        hashes = list(await session.scalars(select(StaffBackupCode.code_hmac)))
    assert len(hashes) == 10 and all(len(h) == 64 for h in hashes)


async def test_a_backup_code_signs_in_once(world: World) -> None:
    await world.add_user("eko@andalas.example", Role.AGENT)
    client = world.client()
    await client.post("/v1/staff/login", {"email": "eko@andalas.example", "password": GOOD_PASSWORD})
    secret = (await client.post("/v1/staff/totp/enrol")).json()["secret"]
    world.clock.advance(30)
    codes = (await client.post("/v1/staff/totp/verify", {"code": totp.code_at(secret, world.clock.now())})).json()[
        "backup_codes"
    ]
    password = {"email": "eko@andalas.example", "password": GOOD_PASSWORD}

    first = world.client()
    await first.post("/v1/staff/login", password)
    reply = await first.post("/v1/staff/totp/verify", {"code": codes[3].upper().replace("-", " ")})
    assert reply.status == 200 and reply.json()["state"] == "password_change_required"

    second = world.client()
    await second.post("/v1/staff/login", password)
    assert (await second.post("/v1/staff/totp/verify", {"code": codes[3]})).status == 401


async def test_password_change_checks_strength_and_ends_other_sessions(world: World) -> None:
    laptop = await world.signed_in_as("fajar@andalas.example", Role.SUPERVISOR)
    phone = await world.again("fajar@andalas.example")
    current = final_password("fajar@andalas.example")

    weak = await phone.post("/v1/staff/password", {"current_password": current, "new_password": "bismillah"})
    assert weak.status == 422
    problems = weak.json()["detail"]["problems"]
    assert any("12 characters" in p for p in problems) and any("commonly used" in p for p in problems)

    wrong = await phone.post("/v1/staff/password", {"current_password": "nope", "new_password": "Lain-kali-saja-77"})
    assert wrong.status == 403

    ok = await phone.post("/v1/staff/password", {"current_password": current, "new_password": "Lain-kali-saja-77"})
    assert ok.status == 200
    assert (await phone.get("/v1/staff/me")).status == 200
    assert (await laptop.get("/v1/staff/me")).status == 401
    assert "staff.password.changed" in world.audit.actions()


async def test_tenant_switcher_binds_the_session_to_the_chosen_tenant(world: World) -> None:
    user_id = await world.add_user("gita@andalas.example", Role.AGENT)
    await world.staff.accounts.set_role(None, user_id, Role.AUDITOR, tenant_id="bank-b")
    client = await world.sign_in("gita@andalas.example")
    me = (await client.get("/v1/staff/me")).json()
    assert me["tenant_id"] == "bank-a" and me["role"] == "agent"
    old_cookie = client.session_cookie

    reply = await client.post("/v1/staff/tenant", {"tenant_id": "bank-b"})
    assert reply.status == 200 and reply.json()["tenant_id"] == "bank-b"
    assert client.session_cookie != old_cookie
    me = (await client.get("/v1/staff/me")).json()
    assert me["tenant_id"] == "bank-b" and me["role"] == "auditor"
    assert "conversations.read" not in me["permissions"]
    assert {m["tenant_id"] for m in me["user"]["memberships"]} == {"bank-a", "bank-b"}


async def test_password_hash_is_upgraded_when_parameters_change(world: World) -> None:
    await world.signed_in_as("hadi@andalas.example", Role.AGENT)
    async with world.db.transaction() as session:
        before = await session.scalar(select(StaffUser.password_hash).where(StaffUser.email == "hadi@andalas.example"))
    stronger = HashParameters(time_cost=2, memory_kib=16, parallelism=1)
    assert before is not None and Passwords(stronger).needs_rehash(before)

    world.staff = StaffService.build(world.db, MASTER_KEY, clock=world.clock, hashing=stronger, audit=world.audit)
    world.app.state.staff = world.staff
    await world.again("hadi@andalas.example")
    async with world.db.transaction() as session:
        after = await session.scalar(select(StaffUser.password_hash).where(StaffUser.email == "hadi@andalas.example"))
    assert after is not None and after != before and not Passwords(stronger).needs_rehash(after)
    assert "m=16,t=2,p=1" in after
