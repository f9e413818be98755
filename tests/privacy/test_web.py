"""The staff API `/v1/privacy` (permission dsr.manage, the compliance officer): open, verify, export,
reject, erase; legal holds; purges. Bad input gets a clear error and changes nothing."""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from types import SimpleNamespace
from typing import Any

import aiohttp
import pytest
import uvicorn
from fastapi import FastAPI
from privacy_support import BANK, SITI, leave_traces
from pypdf import PdfReader

from loket import audit as audit_module
from loket.audit.log import AuditLog
from loket.clock import FakeClock
from loket.db.engine import Database
from loket.privacy.web import build_privacy_router
from loket.security.secretbox import SecretBox
from loket.staff.access import Principal
from loket.staff.permissions import Role
from loket.staff.web.deps import current_principal
from stack import free_port


@pytest.fixture
def installed_audit(audit: AuditLog) -> Iterator[AuditLog]:
    audit_module.install(audit)
    yield audit
    audit_module.install(None)


@asynccontextmanager
async def privacy_api(db: Database, box: SecretBox, clock: FakeClock, role: Role) -> AsyncIterator[str]:
    runtime = SimpleNamespace(db=db, clock=clock, box=box, core=None, keys=None)
    app = FastAPI()
    app.include_router(build_privacy_router(runtime))  # type: ignore[arg-type]
    app.dependency_overrides[current_principal] = lambda: Principal("officer-1", "session-1", BANK, role)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, lifespan="off"))
    task = asyncio.create_task(server.serve())
    while not server.started:  # noqa: ASYNC110 - uvicorn offers no event to wait on
        await asyncio.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}/v1/privacy"
    finally:
        server.should_exit = True
        await task


async def call(
    http: aiohttp.ClientSession, method: str, url: str, body: dict[str, Any] | None = None
) -> tuple[int, Any]:
    async with http.request(method, url, json=body) as resp:
        if resp.content_type == "application/json":
            return resp.status, await resp.json()
        return resp.status, await resp.read()


async def test_officer_handles_an_access_request_end_to_end(
    seeded: Database, installed_audit: AuditLog, box: SecretBox, clock: FakeClock
) -> None:
    await leave_traces(seeded, installed_audit, box, tenant=BANK, wa_id=SITI, at=clock.now(), tag="siti")
    async with privacy_api(seeded, box, clock, Role.COMPLIANCE_OFFICER) as url, aiohttp.ClientSession() as http:
        status, made = await call(http, "POST", f"{url}/requests", {"wa_id": SITI, "right": "access"})
        assert status == 201, made
        request = made["request"]
        reference = request["reference"]
        assert request["status"] == "verifying" and SITI not in str(request)  # staff see the pseudonym
        status, refused = await call(http, "GET", f"{url}/requests/{reference}/export")
        assert status == 409 and "verified" in refused["detail"]
        status, verified = await call(http, "POST", f"{url}/requests/{reference}/verify")
        assert status == 200 and verified["request"]["status"] == "in_progress"
        status, data = await call(http, "GET", f"{url}/requests/{reference}/export?format=json")
        assert status == 200 and data["data"]["inbound_messages"][0]["text"] == "halo siti"
        status, pdf = await call(http, "GET", f"{url}/requests/{reference}/export?format=pdf")
        text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
        assert status == 200 and "halo siti" in text
        status, done = await call(http, "POST", f"{url}/requests/{reference}/complete", {"outcome": "handed_over"})
        assert status == 200 and done["request"]["status"] == "completed"
        steps = [e["step"] for e in done["request"]["evidence"]]
        assert steps == ["received", "verified", "export_built", "export_built", "completed_handed_over"]
        status, listed = await call(http, "GET", f"{url}/requests?status=completed")
        assert [r["reference"] for r in listed["requests"]] == [reference]
        status, _ = await call(http, "GET", f"{url}/requests/PDP-0000000000")
        assert status == 404


async def test_bad_input_is_refused_clearly(
    seeded: Database, installed_audit: AuditLog, box: SecretBox, clock: FakeClock
) -> None:
    async with privacy_api(seeded, box, clock, Role.COMPLIANCE_OFFICER) as url, aiohttp.ClientSession() as http:
        status, _ = await call(http, "POST", f"{url}/requests", {"wa_id": "not a number", "right": "access"})
        assert status == 422
        status, _ = await call(http, "POST", f"{url}/requests", {"wa_id": SITI, "right": "everything"})
        assert status == 422
        status, body = await call(http, "POST", f"{url}/requests", {"wa_id": SITI, "right": "consent_withdrawal"})
        assert status == 409 and "purpose" in body["detail"]
        status, made = await call(http, "POST", f"{url}/requests", {"wa_id": SITI, "right": "correction"})
        reference = made["request"]["reference"]
        status, body = await call(http, "POST", f"{url}/requests/{reference}/reject", {"reason": "dunno"})
        assert status == 409 and "unknown rejection reason" in body["detail"]
        status, body = await call(http, "POST", f"{url}/holds", {"reason": "Not A Code"})
        assert status == 422
        status, body = await call(http, "POST", f"{url}/holds/999/lift")
        assert status == 409
        status, listed = await call(http, "GET", f"{url}/requests")
        assert [r["status"] for r in listed["requests"]] == ["in_progress"]  # nothing else was written


async def test_holds_and_purges_through_the_api(
    seeded: Database, installed_audit: AuditLog, box: SecretBox, clock: FakeClock
) -> None:
    async with privacy_api(seeded, box, clock, Role.COMPLIANCE_OFFICER) as url, aiohttp.ClientSession() as http:
        status, made = await call(
            http, "POST", f"{url}/holds", {"wa_id": SITI, "reason": "litigation", "case_ref": "A-1"}
        )
        assert status == 201 and made["hold"]["scope"] == "customer"
        status, listed = await call(http, "GET", f"{url}/holds")
        assert [h["id"] for h in listed["holds"]] == [made["hold"]["id"]]
        status, lifted = await call(http, "POST", f"{url}/holds/{made['hold']['id']}/lift")
        assert status == 200 and lifted["hold"]["lifted_by"] == "staff:officer-1"
        status, report = await call(http, "POST", f"{url}/purges", {"dry_run": True})
        assert status == 200 and list(report["tenants"]) == [BANK] and report["dry_run"] is True
        status, runs = await call(http, "GET", f"{url}/purges")
        assert status == 200 and len(runs["runs"]) == 1


@pytest.mark.parametrize("role", [Role.AGENT, Role.AUDITOR, Role.SUPERVISOR])
async def test_only_the_dsr_permission_opens_the_api(
    seeded: Database, installed_audit: AuditLog, box: SecretBox, clock: FakeClock, role: Role
) -> None:
    async with privacy_api(seeded, box, clock, role) as url, aiohttp.ClientSession() as http:
        status, _ = await call(http, "GET", f"{url}/requests")
        assert status == 403
        status, _ = await call(http, "POST", f"{url}/requests", {"wa_id": SITI, "right": "erasure"})
        assert status == 403
