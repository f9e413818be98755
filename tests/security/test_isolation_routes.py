"""Adversarial walk of every API route of the assembled app: a member of tenant A tries to read and
change tenant B's rows with B's real ids in every path parameter, B named in every tenant header,
query parameter and body field. Zero leaks: no response carries B's data, and B's rows are exactly as
they were. The walk reads the routes from the app (loket.staff.web.routecheck.route_needs), so a route
added later is attacked without touching this file.

Tenant B's data comes from real traffic (both tenants' customers talk to the bot and ask for a
person) before the walk.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Iterable, Iterator
from typing import Any
from urllib.parse import urlencode

import orjson
import pytest
from fastapi import FastAPI
from isolation_support import A, B
from sqlalchemy import Table, select

from loket.audit import log as audit_log
from loket.clock import system_clock
from loket.config import Settings
from loket.core.demo.institution import DemoCore
from loket.db.base import Base
from loket.db.engine import Database
from loket.demo_server import build_demo_app
from loket.events.endpoints import EndpointStore
from loket.events.signing import SIGNATURE_HEADER, TENANT_HEADER, signature_header
from loket.security.secretbox import SecretBox
from loket.staff.access import Principal
from loket.staff.apikeys import SCOPES
from loket.staff.permissions import ROLES, Role
from loket.staff.web.deps import current_principal
from loket.staff.web.routecheck import RouteNeeds, route_needs
from stack import Stack, running_stack
from support import TEST_SCOPE

_PARAM = re.compile(r"{(\w+)(?::(\w+))?}")
ID_COLUMN = re.compile(r"^(id|reference|.*_id|.*_ref)$")
NOT_IDS = {"tenant_id", "wa_id", "phone_number_id", "waba_id", "customer_id"}
MAX_CANDIDATES = 40


def tenant_tables() -> list[Table]:
    return [t for t in Base.metadata.sorted_tables if "tenant_id" in t.c]


async def snapshot(db: Database, tenant: str) -> dict[str, list[str]]:
    """Every row of `tenant` in every tenant table, as comparable text."""
    found: dict[str, list[str]] = {}
    async with db.transaction() as session:
        for table in tenant_tables():
            rows = (await session.execute(select(table).where(table.c.tenant_id == tenant))).all()
            found[table.name] = sorted(repr(tuple(row)) for row in rows)
    return found


async def b_identifiers(db: Database) -> list[str]:
    """B's real ids, newest first per table, to guess with."""
    values: list[str] = []
    async with db.transaction() as session:
        for table in tenant_tables():
            columns = [c for c in table.c if ID_COLUMN.match(c.name) and c.name not in NOT_IDS]
            if not columns:
                continue
            rows = (await session.execute(select(*columns).where(table.c.tenant_id == B).limit(5))).all()
            values += [str(v) for row in rows for v in row if isinstance(v, str | int) and str(v)]
    return list(dict.fromkeys(values))[:MAX_CANDIDATES]


async def b_markers(db: Database, stack: Stack) -> set[str]:
    """Values only B's data holds: its customers' numbers and its institution's names and number."""
    customers = {c["wa_id"] for c in stack.summary["customers"] if c["tenant_id"] == B}
    async with db.transaction() as session:
        from loket.db.models import PhoneNumber, Tenant

        tenant = (await session.execute(select(Tenant).where(Tenant.id == B))).scalar_one()
        numbers = (await session.execute(select(PhoneNumber).where(PhoneNumber.tenant_id == B))).scalars().all()
    return customers | {tenant.legal_name, tenant.display_name} | {n.display_number for n in numbers}


async def traffic(stack: Stack) -> None:
    for tenant in (A, B):
        customer = stack.customer(tenant, language="id")
        await stack.say(customer, type="text", text="halo")
        await stack.replies(customer, 2)
        await stack.say(customer, type="text", text="saya mau bicara dengan CS")
        await stack.replies(customer, 3)


def role_for(permissions: Iterable[str]) -> Role | None:
    wanted = set(permissions)
    for role in Role:
        if role is not Role.PLATFORM_ADMIN and wanted <= ROLES[role].permissions:
            return role
    return None


def concrete(path: str, value: str) -> str | None:
    def fill(match: re.Match[str]) -> str:
        return value if match.group(2) not in ("int", "float") or value.isdigit() else "1"

    return _PARAM.sub(fill, path)


def attempts(route: RouteNeeds, candidates: list[str]) -> list[str]:
    if not _PARAM.search(route.path):
        return [route.path]
    paths = [concrete(route.path, value) for value in candidates]
    return list(dict.fromkeys(p for p in paths if p))


async def call(
    app: FastAPI, method: str, path: str, query: str, body: bytes, headers: dict[str, str]
) -> tuple[int, str]:
    """One request straight into the ASGI app (no server, no lifespan): status and body text."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "https",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": query.encode(),
        "headers": [(b"host", b"loket.test")] + [(k.lower().encode(), v.encode()) for k, v in headers.items()],
        "client": ("192.0.2.1", 40000),
        "server": ("loket.test", 443),
    }
    sent = False
    status = 0
    chunks: list[bytes] = []

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if sent:
            await asyncio.sleep(3600)  # a streaming route waits for a disconnect that never comes
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = int(message["status"])
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))
            if chunks and b"".join(chunks) and message.get("more_body") and len(chunks) > 20:
                raise _Enough

    try:
        await asyncio.wait_for(app(scope, receive, send), timeout=5)
    except (_Enough, TimeoutError):
        pass
    return status, b"".join(chunks).decode(errors="replace")


class _Enough(Exception):
    """A streaming response (server-sent events): what it sent so far is enough to check."""


class Walker:
    def __init__(self, app: FastAPI, secret_a: str, markers: set[str], *, api_key_a: str) -> None:
        self.app = app
        self.api_key_a = api_key_a
        self.secret_a = secret_a
        self.markers = markers
        self.leaks: list[str] = []
        self.requests = 0
        self.answered: list[str] = []  # 2xx: the handler ran for tenant A, past every check

    async def attack(self, route: RouteNeeds, candidates: list[str]) -> None:
        permissions = [n.value for n in route.needs if n.kind == "permission"]
        signed = any(n.kind == "api_key" for n in route.needs)
        if permissions:
            role = role_for(permissions)
            if role is None:
                return  # only the platform administrator may: not a tenant's member
            self.app.dependency_overrides[current_principal] = lambda: Principal("walker", "walker", A, role)
        else:
            self.app.dependency_overrides.pop(current_principal, None)
        for method in route.methods:
            for path in attempts(route, candidates):
                await self.send(method, path, signed)

    async def send(self, method: str, path: str, signed: bool) -> None:
        body = b"" if method in ("GET", "DELETE") else orjson.dumps({"tenant_id": B, "tenant": B, "customer_id": B})
        headers = {"Content-Type": "application/json", TENANT_HEADER: B, "X-Tenant": B}
        if signed:
            # A's key (institution systems) or A's valid signature (events API) with A's tenant header,
            # and B smuggled everywhere else.
            headers["Authorization"] = f"Bearer {self.api_key_a}"
            headers[TENANT_HEADER] = A
            headers[SIGNATURE_HEADER] = signature_header(self.secret_a.encode(), int(time.time()), body)
        for params in ({"tenant_id": B, "tenant": B}, {}):
            status, text = await call(self.app, method, path, urlencode(params), body, headers)
            self.requests += 1
            if 200 <= status < 300:
                self.answered.append(f"{method} {path}")
            found = [m for m in self.markers if m and m in text]
            if found:
                self.leaks.append(f"{method} {path} {params} -> {status}: {found}")
        if signed:
            # B's header with A's signature (and no key) must not authenticate.
            headers[TENANT_HEADER] = B
            headers.pop("Authorization", None)
            status, _ = await call(self.app, method, path, "", body, headers)
            self.requests += 1
            if status != 401:
                self.leaks.append(f"{method} {path} signed by A as B -> {status}")


@pytest.fixture
def keep_audit_log() -> Iterator[None]:
    """Building the app installs its audit log process-wide: put back what was there."""
    previous = audit_log.current()
    yield
    audit_log.install(previous)


@pytest.mark.usefixtures("keep_audit_log")
async def test_every_route_keeps_tenant_b_out_of_reach_of_tenant_a(settings: Settings) -> None:
    async with running_stack(settings) as stack:
        await traffic(stack)
        await asyncio.sleep(0.5)
    wrapper = await asyncio.to_thread(build_demo_app, settings, DemoCore.generate(system_clock))
    app: Any = getattr(wrapper, "app", wrapper)
    assert isinstance(app, FastAPI)
    staff = app.state.staff
    key_a = await staff.api_keys.create(None, name="walker", scopes=list(SCOPES), tenant_id=A)
    await staff.api_keys.create(None, name="b-systems", scopes=list(SCOPES), tenant_id=B)
    seed = Database(settings.effective_database_url, default_scope=TEST_SCOPE)
    try:
        secret_a = await EndpointStore(seed, SecretBox(settings.master_key_bytes)).rotate(A)
        await EndpointStore(seed, SecretBox(settings.master_key_bytes)).rotate(B)
        before = await snapshot(seed, B)
        candidates = await b_identifiers(seed)
        markers = await b_markers(seed, stack)
        # Guessing with B's customers' numbers would only measure the echo of our own input.
        candidates = [c for c in candidates if c not in markers]
    finally:
        await seed.dispose()
    assert sum(len(rows) for rows in before.values()) > 10, "tenant B has data to steal"
    assert len(candidates) >= 5

    walker = Walker(app, secret_a, markers, api_key_a=key_a.key)
    try:
        routes = route_needs(app)
        assert len(routes) > 30
        for route in routes:
            await walker.attack(route, candidates)
    finally:
        app.dependency_overrides.clear()
        await app.state.runtime.db.dispose()

    after_db = Database(settings.effective_database_url, default_scope=TEST_SCOPE)
    try:
        after = await snapshot(after_db, B)
    finally:
        await after_db.dispose()
    assert walker.requests > 200
    assert len(set(walker.answered)) >= 10, "the walk reached the handlers, not only the guards"
    assert walker.leaks == [], "\n".join(walker.leaks[:20])
    changed = {name: (before[name], after[name]) for name in before if before[name] != after[name]}
    assert changed == {}, f"tenant A changed tenant B's rows in: {sorted(changed)}"
