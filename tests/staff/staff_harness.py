"""Harness for the staff tests: the staff API in-process (a small ASGI client with its own cookie jar),
two tenants, a FakeClock, cheap argon2 parameters, and helpers that sign a person in end to end.
Imported by this name because `conftest` is not a unique module name across the tree."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import pytest
from fastapi import FastAPI

from loket.clock import FakeClock
from loket.db.engine import Database
from loket.staff import totp
from loket.staff.audit import MemoryAudit
from loket.staff.passwords import HashParameters
from loket.staff.permissions import Role
from loket.staff.service import StaffService
from loket.staff.web import COOKIE_NAME, install_staff
from loket.tenancy.admin import TenantSpec, upsert_tenant

MASTER_KEY = bytes(range(32))
FAST_HASHING = HashParameters(time_cost=1, memory_kib=8, parallelism=1)
TENANT_A = "bank-a"
TENANT_B = "bank-b"
GOOD_PASSWORD = "Kopi-tubruk-pagi-hari-9"


@dataclass
class Reply:
    status: int
    headers: list[tuple[str, str]]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers if k == name.lower()), None)

    def set_cookies(self) -> list[str]:
        return [v for k, v in self.headers if k == "set-cookie"]


@dataclass
class Client:
    """An HTTPS browser stand-in: keeps cookies, sends the CSRF token it was given unless told not to."""

    app: FastAPI
    address: str = "198.51.100.7"
    cookies: dict[str, str] = field(default_factory=dict)
    csrf: str | None = None

    async def request(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        form: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
        csrf: bool = True,
        raw: tuple[bytes, str] | None = None,
    ) -> Reply:
        """`raw` is a ready body with its content type (a multipart upload, say)."""
        body = b""
        sent: dict[str, str] = {"host": "loket.test"}
        if raw is not None:
            body, sent["content-type"] = raw
        if json_body is not None:
            body, sent["content-type"] = json.dumps(json_body).encode(), "application/json"
        if form is not None:
            body, sent["content-type"] = urlencode(form).encode(), "application/x-www-form-urlencoded"
        if self.cookies:
            sent["cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if csrf and self.csrf and method not in ("GET", "HEAD"):
            sent["x-csrf-token"] = self.csrf
        sent.update({k.lower(): v for k, v in (headers or {}).items()})
        sent["content-length"] = str(len(body))
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": method,
            "scheme": "https",
            "path": path,
            "raw_path": path.encode(),
            "root_path": "",
            "query_string": b"",
            "headers": [(k.encode(), v.encode()) for k, v in sent.items()],
            "client": (self.address, 50000),
            "server": ("loket.test", 443),
        }
        pending = [{"type": "http.request", "body": body, "more_body": False}]
        start: dict[str, Any] = {}
        chunks: list[bytes] = []

        async def receive() -> dict[str, Any]:
            return pending.pop(0) if pending else {"type": "http.disconnect"}

        async def send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        await self.app(scope, receive, send)
        reply = Reply(
            start["status"], [(k.decode().lower(), v.decode()) for k, v in start["headers"]], b"".join(chunks)
        )
        self._absorb(reply)
        return reply

    def _absorb(self, reply: Reply) -> None:
        for cookie in reply.set_cookies():
            name, _, rest = cookie.partition("=")
            value = rest.split(";", 1)[0].strip('"')
            if "max-age=0" in cookie.lower() or not value:
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = value
        payload = reply.json() if reply.header("content-type") == "application/json" else None
        if isinstance(payload, dict) and isinstance(payload.get("csrf_token"), str):
            self.csrf = payload["csrf_token"]

    async def post(self, path: str, body: Any = None, **kw: Any) -> Reply:
        return await self.request("POST", path, json_body=body, **kw)

    async def get(self, path: str, **kw: Any) -> Reply:
        return await self.request("GET", path, **kw)

    async def delete(self, path: str, **kw: Any) -> Reply:
        return await self.request("DELETE", path, **kw)

    @property
    def session_cookie(self) -> str | None:
        return self.cookies.get(COOKIE_NAME)


@dataclass
class World:
    db: Database
    clock: FakeClock
    audit: MemoryAudit
    staff: StaffService
    app: FastAPI
    # email -> (user id, TOTP secret)
    secrets: dict[str, str] = field(default_factory=dict)

    def client(self, address: str = "198.51.100.7") -> Client:
        return Client(self.app, address=address)

    async def add_user(self, email: str, role: Role, tenant: str | None = TENANT_A) -> str:
        """A user created by the CLI (actor None); returns the id. Its password is still temporary."""
        issued = await self.staff.accounts.create_user(
            None, email=email, display_name=email.split("@")[0], role=role, tenant_id=tenant, password=GOOD_PASSWORD
        )
        return issued.user.id

    def code(self, email: str) -> str:
        self.clock.advance(30)  # one code per step: a new step for every sign-in
        return totp.code_at(self.secrets[email], self.clock.now())

    async def sign_in(self, email: str, password: str = GOOD_PASSWORD, *, client: Client | None = None) -> Client:
        """Password, TOTP (enrolling the first time), and the forced change to a final password."""
        client = client or self.client()
        reply = await client.post("/v1/staff/login", {"email": email, "password": password})
        assert reply.status == 200, reply.json()
        if reply.json()["state"] == "enrolment_required":
            enrolment = (await client.post("/v1/staff/totp/enrol")).json()
            self.secrets[email] = enrolment["secret"]
        reply = await client.post("/v1/staff/totp/verify", {"code": self.code(email)})
        assert reply.status == 200, reply.json()
        if reply.json()["state"] == "password_change_required":
            change = {"current_password": password, "new_password": final_password(email)}
            reply = await client.post("/v1/staff/password", change)
            assert reply.status == 200, reply.json()
        assert reply.json()["state"] == "active"
        return client

    async def signed_in_as(self, email: str, role: Role, tenant: str | None = TENANT_A) -> Client:
        await self.add_user(email, role, tenant)
        client = await self.sign_in(email)
        return client

    async def again(self, email: str, *, client: Client | None = None) -> Client:
        """A second sign-in of an account that has finished its first one."""
        return await self.sign_in(email, final_password(email), client=client)


def final_password(email: str) -> str:
    return "Teh-manis-dingin-" + str(len(email)) + "-sore"


async def seed_tenants(db: Database, clock: FakeClock) -> None:
    for tenant_id, name in ((TENANT_A, "Bank Andalas"), (TENANT_B, "Bank Bahari")):
        await upsert_tenant(
            db,
            TenantSpec(tenant_id, "bank", f"PT {name} Tbk", name, f"KEP-{tenant_id}"),
            clock=clock,
        )


@pytest.fixture
async def world(db: Database) -> AsyncIterator[World]:
    clock = FakeClock()
    audit = MemoryAudit()
    await seed_tenants(db, clock)
    staff = StaffService.build(db, MASTER_KEY, clock=clock, hashing=FAST_HASHING, audit=audit)
    app = FastAPI()
    install_staff(app, staff)
    yield World(db=db, clock=clock, audit=audit, staff=staff, app=app)
