"""The console over HTTP: the HTML sign-in with TOTP enrolment, the inbox pages and their forms
(CSRF, permissions, another tenant's ids), the live event stream, the dashboard and its CSV."""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import AsyncIterator
from typing import Any

from console_harness import TENANT_A, TENANT_B, Client, ConsoleWorld
from fastapi import FastAPI

from loket.console import assignment
from loket.console.bus import publish_after_commit
from loket.dialogue.tables import Handoff
from loket.staff import totp
from loket.staff.permissions import Role
from loket.staff.web import COOKIE_NAME

PASSWORD = "Kopi-tubruk-pagi-hari-9"


def _field(html: str, name: str) -> str:
    found = re.search(rf'name="{name}" value="([^"]*)"', html)
    assert found, f"no {name} in the page"
    return found.group(1)


async def test_html_sign_in_enrols_totp_shows_backup_codes_and_forces_a_new_password(
    console_world: ConsoleWorld,
) -> None:
    await console_world.add_user("siti@bank.example", Role.AGENT)
    browser = console_world.client()
    page = await browser.get("/console/inbox")
    assert page.status == 303 and page.header("location") == "/console/login?next=/console/inbox"
    form = await browser.get("/console/login?next=/console/inbox")
    assert form.status == 200 and "Content-Security-Policy" not in form.body.decode()
    csrf = _field(form.body.decode(), "csrf_token")
    # a form without the pre-session token is refused, and nothing is signed in
    refused = await browser.request(
        "POST", "/console/login", form={"email": "siti@bank.example", "password": PASSWORD, "csrf_token": "x"}
    )
    assert refused.status == 403 and COOKIE_NAME not in browser.cookies
    wrong = await browser.request(
        "POST", "/console/login", form={"email": "siti@bank.example", "password": "nope", "csrf_token": csrf}
    )
    assert wrong.status == 401 and "Email atau kata sandi salah" in wrong.body.decode()
    step = await browser.request(
        "POST", "/console/login", form={"email": "siti@bank.example", "password": PASSWORD, "csrf_token": csrf}
    )
    assert step.status == 303 and step.header("location") == "/console/login/enrol"
    intro = await browser.get("/console/login/enrol")
    session_csrf = _field(intro.body.decode(), "csrf_token")
    # state-changing steps need the session's CSRF token
    assert (await browser.request("POST", "/console/login/enrol", form={})).status == 403
    qr = await browser.request("POST", "/console/login/enrol", form={"csrf_token": session_csrf})
    html = qr.body.decode()
    assert qr.status == 200 and "<svg" in html
    secret = re.search(r'id="totp-secret">([A-Z2-7]+)<', html)
    assert secret
    bad = await browser.request("POST", "/console/login/totp", form={"csrf_token": session_csrf, "code": "000000"})
    assert bad.status == 401 and "Kode salah" in bad.body.decode()
    console_world.clock.advance(30)
    code = totp.code_at(secret.group(1), console_world.clock.now())
    codes = await browser.request("POST", "/console/login/totp", form={"csrf_token": session_csrf, "code": code})
    assert codes.status == 200 and "Kode cadangan" in codes.body.decode()
    assert codes.body.decode().count("<li>") >= 8
    change = await browser.get("/console/login/password")
    token = _field(change.body.decode(), "csrf_token")
    done = await browser.request(
        "POST",
        "/console/login/password",
        form={"csrf_token": token, "current_password": PASSWORD, "new_password": "Teh-manis-dingin-sore-77"},
    )
    assert done.status == 303 and done.header("location") == "/console/inbox"
    inbox = await browser.get("/console/inbox")
    assert inbox.status == 200 and "Kotak masuk" in inbox.body.decode()
    logout_token = _field(inbox.body.decode(), "csrf_token")
    out = await browser.request("POST", "/console/logout", form={"csrf_token": logout_token})
    assert out.status == 303 and COOKIE_NAME not in browser.cookies
    assert (await browser.get("/console/inbox")).status == 303


async def test_inbox_lists_the_tenants_queue_and_take_needs_csrf(console_world: ConsoleWorld) -> None:
    me, client = await console_world.member("agen@bank.example", Role.AGENT)
    mine = await console_world.handoff(TENANT_A)
    await console_world.handoff(TENANT_B)
    page = await client.get("/console/inbox")
    html = page.body.decode()
    assert page.status == 200
    assert f'data-id="{mine}"' in html and html.count('class="queue-row"') == 1
    assert page.header("content-security-policy") and "unsafe-inline" not in str(page.header("content-security-policy"))
    assert "<script>" not in html and " style=" not in html
    refused = await client.request("POST", f"/console/inbox/{mine}/take", form={"tab": "waiting"}, csrf=False)
    assert refused.status == 403 and await console_world.assignee(mine) is None
    taken = await client.request("POST", f"/console/inbox/{mine}/take", form={"tab": "waiting"})
    assert taken.status == 303 and await console_world.assignee(mine) == me
    assert 'data-id="' + str(mine) + '"' in (await client.get("/console/inbox?tab=mine")).body.decode()
    english = await client.request("POST", "/console/language", form={"language": "en", "next": "/console/inbox"})
    assert english.status == 303
    assert "Inbox" in (await client.get("/console/inbox?tab=all")).body.decode()


async def test_idor_another_tenants_ids_are_not_found_and_roles_are_enforced(console_world: ConsoleWorld) -> None:
    _, agent_b = await console_world.member("agent@bahari.example", Role.AGENT, TENANT_B)
    colleague_a = await console_world.add_user("rekan@andalas.example", Role.AGENT, TENANT_A)
    handoff_a = await console_world.handoff(TENANT_A)
    for path, form in (
        (f"/console/inbox/{handoff_a}/take", {}),
        (f"/console/inbox/{handoff_a}/assign", {"to": colleague_a}),
        (f"/console/inbox/{handoff_a}/team", {"team": "1"}),
    ):
        reply = await agent_b.request("POST", path, form=form)
        assert reply.status == 404, (path, reply.body)
    assert await console_world.assignee(handoff_a) is None
    _, auditor = await console_world.member("auditor@andalas.example", Role.AUDITOR)
    assert (await auditor.get("/console/inbox")).status == 403
    assert (await auditor.get("/console/dashboard")).status == 200
    _, agent_a = await console_world.member("agen2@andalas.example", Role.AGENT)
    assert (await agent_a.get("/console/dashboard")).status == 403
    # an agent cannot assign someone else's conversation
    async with console_world.db.transaction() as session:
        await assignment.take(session, TENANT_A, handoff_a, colleague_a, console_world.clock.now())
    stolen = await agent_a.request("POST", f"/console/inbox/{handoff_a}/assign", form={"to": colleague_a})
    assert stolen.status == 404


async def _stream(app: FastAPI, client: Client, path: str) -> AsyncIterator[bytes]:
    """The body of a streaming GET, chunk by chunk, until the caller stops reading."""
    chunks: asyncio.Queue[bytes] = asyncio.Queue()
    stop = asyncio.Event()
    headers = [(b"host", b"loket.test"), (b"cookie", "; ".join(f"{k}={v}" for k, v in client.cookies.items()).encode())]
    scope: dict[str, Any] = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "https",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": headers,
        "client": ("198.51.100.7", 50000),
        "server": ("loket.test", 443),
    }
    sent = False

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await stop.wait()
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            assert message["status"] == 200, message
        elif message["type"] == "http.response.body":
            await chunks.put(message.get("body", b""))

    task = asyncio.create_task(app(scope, receive, send))
    try:
        while True:
            yield await asyncio.wait_for(chunks.get(), timeout=5)
    finally:
        stop.set()
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task


async def test_the_event_stream_announces_a_new_handoff_of_the_tenant_only(console_world: ConsoleWorld) -> None:
    _, client = await console_world.member("live@andalas.example", Role.AGENT)
    stream = _stream(console_world.app, client, "/console/inbox/events")
    assert b"connected" in await anext(stream)
    async with console_world.db.transaction() as session:  # another tenant's handoff: not heard
        publish_after_commit(session, TENANT_B, {"kind": "handoff.created", "handoff_id": 999})
    async with console_world.db.transaction() as session:  # rolled back: never announced
        publish_after_commit(session, TENANT_A, {"kind": "handoff.created", "handoff_id": 998})
        await session.rollback()
    async with console_world.db.transaction() as session:
        row = Handoff(
            tenant_id=TENANT_A,
            phone_number_id="10001",
            wa_id="628120000777",
            language="id",
            reason="customer_request",
            summary="minta petugas",
            status="waiting",
            created_at=console_world.clock.now(),
        )
        session.add(row)
        await session.flush()
        handoff_id = row.id
        publish_after_commit(session, TENANT_A, {"kind": "handoff.created", "handoff_id": handoff_id})
    chunk = await anext(stream)
    assert chunk.startswith(b"event: inbox\n")
    assert f'"handoff_id": {handoff_id}'.encode() in chunk
    await stream.aclose()


async def test_dashboard_figures_and_csv_export(console_world: ConsoleWorld) -> None:
    agent = await console_world.add_user("cepat@andalas.example", Role.AGENT)
    _, supervisor = await console_world.member("lead@andalas.example", Role.SUPERVISOR)
    answered = await console_world.handoff(age_minutes=30)
    await console_world.handoff(age_minutes=10)
    async with console_world.db.transaction() as session:
        row = await session.get(Handoff, answered)
        assert row is not None
        row.assigned_to = agent
        row.first_reply_at = row.created_at + (console_world.clock.now() - row.created_at) / 3  # 10 minutes
        row.status, row.closed_at = "closed", console_world.clock.now()
    page = await supervisor.get("/console/dashboard?days=7")
    html = page.body.decode()
    assert page.status == 200
    assert '<strong data-kpi="waiting">1</strong>' in html
    assert "10.0 mnt" in html  # the first-response median
    assert "<svg" in html and "<title" in html
    export = await supervisor.get("/console/dashboard.csv?days=7")
    assert (
        export.status == 200
        and export.header(
            "content-type",
        )
        == "text/csv; charset=utf-8"
    )
    lines = export.body.decode().splitlines()
    assert lines[0].startswith("scope,name,open,waiting,handled")
    assert any(line.startswith("agent,cepat,") for line in lines)
    assert "export.created" in await console_world.audit_kinds()
    assert (await supervisor.get("/console/dashboard?days=0")).status == 422


async def test_assign_page_lists_colleagues_for_the_owner_and_a_supervisor_only(console_world: ConsoleWorld) -> None:
    owner, owner_client = await console_world.member("pemilik@andalas.example", Role.AGENT)
    _, bystander = await console_world.member("lain@andalas.example", Role.AGENT)
    _, lead = await console_world.member("lead@andalas.example", Role.SUPERVISOR)
    _, outsider = await console_world.member("luar@bahari.example", Role.SUPERVISOR, TENANT_B)
    colleague = await console_world.add_user("rekan@andalas.example", Role.AGENT)
    handoff = await console_world.handoff()
    async with console_world.db.transaction() as session:
        await assignment.take(session, TENANT_A, handoff, owner, console_world.clock.now())
    page = await owner_client.get(f"/console/inbox/{handoff}/assign")
    assert page.status == 200 and f'value="{colleague}"' in page.body.decode()
    assert f'value="{owner}"' not in page.body.decode()  # not to oneself
    assert (await bystander.get(f"/console/inbox/{handoff}/assign")).status == 404
    assert (await outsider.get(f"/console/inbox/{handoff}/assign")).status == 404
    assert (await lead.get(f"/console/inbox/{handoff}/assign")).status == 200
    moved = await lead.request("POST", f"/console/inbox/{handoff}/assign", form={"to": colleague, "tab": "all"})
    assert moved.status == 303 and await console_world.assignee(handoff) == colleague
    # the owner's own list no longer offers it, and the old owner cannot move it back
    assert (await owner_client.get(f"/console/inbox/{handoff}/assign")).status == 404


async def test_tenant_switcher_for_people_with_several_memberships(console_world: ConsoleWorld) -> None:
    user_id, client = await console_world.member("dua@grup.example", Role.SUPERVISOR, TENANT_A)
    await console_world.staff.accounts.set_role(None, user_id, tenant_id=TENANT_B, role=Role.AGENT)
    page = (await client.get("/console/inbox")).body.decode()
    assert 'id="tenant-select"' in page and "Bank Bahari" in page and "Bank Andalas" in page
    token = _field(page, "csrf_token")
    switched = await client.request(
        "POST", "/console/tenant", form={"csrf_token": token, "tenant_id": TENANT_B, "next": "/console/inbox"}
    )
    assert switched.status == 303
    handoff_b = await console_world.handoff(TENANT_B)
    page = (await client.get("/console/inbox")).body.decode()
    assert f'data-id="{handoff_b}"' in page
    assert (await client.get("/console/dashboard")).status == 403  # an agent in tenant B
    refused = await client.request(
        "POST", "/console/tenant", form={"csrf_token": _field(page, "csrf_token"), "tenant_id": "nowhere"}
    )
    assert refused.status == 403


async def test_the_stream_check_does_not_keep_an_idle_session_alive(console_world: ConsoleWorld) -> None:
    from loket.console.inbox import session_still_valid

    _, client = await console_world.member("idle@andalas.example", Role.AGENT)
    token = client.cookies[COOKIE_NAME]
    assert await session_still_valid(console_world.staff, token)
    console_world.clock.advance(29 * 60)
    for _ in range(3):  # checking again and again does not count as activity
        assert await session_still_valid(console_world.staff, token)
    console_world.clock.advance(2 * 60)
    assert not await session_still_valid(console_world.staff, token)
    assert not await session_still_valid(console_world.staff, None)
    assert not await session_still_valid(console_world.staff, "forged")


async def test_supervisors_manage_teams_and_the_inbox_filters_by_them(console_world: ConsoleWorld) -> None:
    _, lead = await console_world.member("lead@andalas.example", Role.SUPERVISOR)
    member = await console_world.add_user("kartu@andalas.example", Role.AGENT)
    auditor = await console_world.add_user("audit@andalas.example", Role.AUDITOR)
    _, agent = await console_world.member("agen@andalas.example", Role.AGENT)
    assert (await agent.get("/console/teams")).status == 403
    bad = await lead.request("POST", "/console/teams", form={"name": "Kartu", "reasons": "Card Blocked!"})
    assert bad.status == 422
    made = await lead.request("POST", "/console/teams", form={"name": "Kartu", "reasons": "card_blocked, fraud_report"})
    assert made.status == 303
    page = (await lead.get("/console/teams")).body.decode()
    team_id = re.search(r'action="/console/teams/(\d+)/members"', page)
    assert team_id and "card_blocked, fraud_report" in page
    path = f"/console/teams/{team_id.group(1)}/members"
    assert (await lead.request("POST", path, form={"member": auditor})).status == 422  # cannot answer
    assert (await lead.request("POST", path, form={"member": member})).status == 303
    assert "kartu" in (await lead.get("/console/teams")).body.decode()
    card = await console_world.handoff(reason="card_blocked")
    other = await console_world.handoff(reason="asked")
    filtered = (await lead.get(f"/console/inbox?tab=all&team={team_id.group(1)}")).body.decode()
    assert f'data-id="{card}"' in filtered and f'data-id="{other}"' not in filtered
    _, outsider = await console_world.member("luar@bahari.example", Role.SUPERVISOR, TENANT_B)
    assert (await outsider.request("POST", path, form={"member": member})).status == 404
    gone = await lead.request("POST", f"/console/teams/{team_id.group(1)}/delete", form={})
    assert gone.status == 303 and "Kartu" not in (await lead.get("/console/teams")).body.decode()
    assert (await console_world.audit_kinds()).count("config.changed") == 3
