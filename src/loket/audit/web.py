"""HTTP adapter: public keys, the latest checkpoint and proofs. Mounted by the web app; `auth` is the
dependency the security work supplies (None leaves the routes open, e.g. for a public transparency log)."""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query
from fastapi.responses import PlainTextResponse

from loket.audit.checkpoints import consistency_proof, inclusion_proof, latest_checkpoint
from loket.audit.keys import KeyRing
from loket.audit.merkle import ProofError

Tenant = Annotated[str, Query(min_length=1, max_length=64)]


def _b64(values: list[bytes]) -> list[str]:
    return [base64.b64encode(v).decode() for v in values]


def build_audit_router(keyring: KeyRing, *, auth: Callable[..., Any] | None = None) -> APIRouter:
    router = APIRouter(prefix="/v1/audit", tags=["audit"], dependencies=[Depends(auth)] if auth is not None else [])
    db = keyring.db

    async def _latest_size(tenant: str) -> int:
        async with db.sessions() as session:
            latest = await latest_checkpoint(session, tenant)
        if latest is None:
            raise HTTPException(404, f"no checkpoint for tenant {tenant} yet")
        return latest.size

    @router.get("/keys")
    async def keys(tenant: Annotated[str | None, Query(max_length=64)] = None) -> dict[str, Any]:
        """Checkpoint verification keys (C2SP signed-note vkeys) with their validity periods."""
        return {"keys": [k.to_json() for k in await keyring.public_keys(tenant)]}

    @router.get("/checkpoints/latest", response_class=PlainTextResponse)
    async def latest(tenant: Tenant) -> PlainTextResponse:
        """The latest signed checkpoint of the tenant's log, as C2SP tlog-checkpoint text."""
        async with db.sessions() as session:
            checkpoint = await latest_checkpoint(session, tenant)
        if checkpoint is None:
            raise HTTPException(404, f"no checkpoint for tenant {tenant} yet")
        return PlainTextResponse(checkpoint.note, media_type="text/plain; charset=utf-8")

    @router.get("/proofs/inclusion")
    async def inclusion(
        tenant: Tenant,
        index: Annotated[int, Query(ge=0)],
        tree_size: Annotated[int | None, Query(ge=1)] = None,
    ) -> dict[str, Any]:
        """RFC 9162 inclusion proof of entry `index` in the tree of `tree_size` (default: latest checkpoint)."""
        size = tree_size or await _latest_size(tenant)
        try:
            async with db.sessions() as session:
                leaf, proof = await inclusion_proof(session, tenant, index, size)
        except ProofError as exc:
            raise HTTPException(400, str(exc)) from None
        return {
            "tenant": tenant,
            "index": index,
            "tree_size": size,
            "leaf_hash": base64.b64encode(leaf).decode(),
            "proof": _b64(proof),
        }

    @router.get("/proofs/consistency")
    async def consistency(
        tenant: Tenant,
        first: Annotated[int, Query(ge=0)],
        second: Annotated[int | None, Query(ge=0)] = None,
    ) -> dict[str, Any]:
        """RFC 9162 consistency proof from tree size `first` to `second` (default: latest checkpoint)."""
        size = second if second is not None else await _latest_size(tenant)
        try:
            async with db.sessions() as session:
                proof = await consistency_proof(session, tenant, first, size)
        except ProofError as exc:
            raise HTTPException(400, str(exc)) from None
        return {"tenant": tenant, "first": first, "second": size, "proof": _b64(proof)}

    return router
