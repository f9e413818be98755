"""Security headers on every answer; a nonce-based CSP on HTML pages."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse
from staff_harness import Client, World

from loket.staff.web import SecurityHeaders, public


async def test_json_answers_carry_the_strict_headers(world: World) -> None:
    reply = await world.client().post("/v1/staff/login", {"email": "x@y.example", "password": "nope"})
    assert reply.header("content-security-policy") == (
        "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
    )
    assert reply.header("x-content-type-options") == "nosniff"
    assert reply.header("x-frame-options") == "DENY"
    assert reply.header("referrer-policy") == "no-referrer"
    assert reply.header(
        "strict-transport-security",
    ).startswith("max-age=")  # type: ignore[union-attr]


async def test_html_pages_get_a_nonce_csp() -> None:
    app = FastAPI()
    app.add_middleware(SecurityHeaders, exclude=("/sandbox",))

    @app.get("/console", response_class=HTMLResponse, dependencies=[public("a test page")])
    async def console(request: Request) -> str:
        return f'<script nonce="{request.state.csp_nonce}">boot()</script>'

    @app.get("/sandbox/phone", response_class=HTMLResponse)
    async def phone() -> str:
        return "<p>sandbox</p>"

    client = Client(app)
    first, second = await client.get("/console"), await client.get("/console")
    policy = first.header("content-security-policy") or ""
    nonce = first.body.decode().split('nonce="')[1].split('"')[0]
    assert policy.startswith("default-src 'self'; script-src 'self' 'nonce-")
    assert f"'nonce-{nonce}'" in policy and "'unsafe-inline'" not in policy
    assert "frame-ancestors 'none'" in policy and "object-src 'none'" in policy
    assert second.header("content-security-policy") != policy  # a fresh nonce per answer
    assert (await client.get("/sandbox/phone")).header("content-security-policy") is None
