"""Wires the audit log and staff identity into an application and its background work.

The audit log is installed process-wide (`loket.audit.record` from every module), checkpoints are
cut on a schedule by whichever process does the background work, and the audit API answers only
for the tenant the staff session is bound to.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Annotated

from fastapi import Depends, FastAPI, HTTPException, Request

from loket.audit import AuditLog, Pseudonymizer, install
from loket.audit.checkpoints import maybe_checkpoint
from loket.audit.keys import KeyRing, origin_base_from_url
from loket.audit.web import build_audit_router
from loket.runtime import Runtime
from loket.staff.access import Principal
from loket.staff.audit_bridge import LoketAudit
from loket.staff.service import StaffService
from loket.staff.web.deps import require
from loket.staff.web.router import install_staff

log = logging.getLogger(__name__)
CHECKPOINT_POLL_SECONDS = 30.0


def audit_keyring(runtime: Runtime) -> KeyRing:
    settings = runtime.settings
    return KeyRing(runtime.db, runtime.box, origin_base=origin_base_from_url(settings.public_url), clock=runtime.clock)


def install_audit_log(runtime: Runtime) -> AuditLog:
    audit_log = AuditLog(runtime.db, Pseudonymizer(runtime.settings.master_key_bytes), clock=runtime.clock)
    install(audit_log)
    return audit_log


read_audit = require("audit.read")


async def audit_reader(request: Request, principal: Annotated[Principal, Depends(read_audit)]) -> Principal:
    """`audit.read`, and only for the tenant of the session (platform scope may name any tenant)."""
    tenant = request.query_params.get("tenant")
    if tenant is not None and principal.tenant_id is not None and tenant != principal.tenant_id:
        raise HTTPException(403, detail="this session may only read its own tenant's audit log")
    return principal


def install_governance(app: FastAPI, runtime: Runtime, *, headers_exclude: tuple[str, ...] = ()) -> None:
    audit_log = install_audit_log(runtime)
    staff = StaffService.build(
        runtime.db, runtime.settings.master_key_bytes, clock=runtime.clock, audit=LoketAudit(audit_log)
    )
    install_staff(app, staff, headers_exclude=headers_exclude)
    app.include_router(build_audit_router(audit_keyring(runtime), auth=audit_reader))


async def checkpoint_forever(keyring: KeyRing) -> None:
    """Cuts signed checkpoints as the logs grow (several processes may run this; duplicates are ignored)."""
    while True:
        try:
            await maybe_checkpoint(keyring)
        except Exception:
            log.exception("audit checkpoint pass failed; retrying")
        await asyncio.sleep(CHECKPOINT_POLL_SECONDS)
