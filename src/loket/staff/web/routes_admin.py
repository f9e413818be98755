"""Administration: staff accounts and roles (staff.manage), API keys (apikeys.manage)."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends

from loket.staff.access import Principal
from loket.staff.web.deps import StaffDep, http_errors, require
from loket.staff.web.schemas import (
    ApiKeyBody,
    CreateUserBody,
    ResetBody,
    RoleBody,
    RotateBody,
    key_json,
    user_json,
)

StaffAdmin = Annotated[Principal, Depends(require("staff.manage"))]
KeyAdmin = Annotated[Principal, Depends(require("apikeys.manage"))]


def add_admin_routes(router: APIRouter) -> None:
    @router.get("/users")
    async def list_users(principal: StaffAdmin, staff: StaffDep) -> dict[str, Any]:
        """Members of the current tenant (in the platform scope: the platform administrators)."""
        with http_errors():
            users = await staff.accounts.list_users(principal)
        return {"users": [user_json(user) for user in users]}

    @router.post("/users", status_code=201)
    async def create_user(principal: StaffAdmin, body: CreateUserBody, staff: StaffDep) -> dict[str, Any]:
        """A new account in the current tenant; the temporary password is in this answer only."""
        with http_errors():
            issued = await staff.accounts.create_user(
                principal, email=body.email, display_name=body.display_name, role=body.role, password=body.password
            )
        return {"user": user_json(issued.user), "temporary_password": issued.temporary_password}

    @router.post("/users/{user_id}/reset-password")
    async def reset_password(
        principal: StaffAdmin, user_id: str, staff: StaffDep, body: ResetBody | None = None
    ) -> dict[str, Any]:
        body = body or ResetBody()
        with http_errors():
            issued = await staff.accounts.reset_password(
                principal, user_id, password=body.password, reset_totp=body.reset_totp
            )
        return {"user": user_json(issued.user), "temporary_password": issued.temporary_password}

    @router.post("/users/{user_id}/roles")
    async def set_role(principal: StaffAdmin, user_id: str, body: RoleBody, staff: StaffDep) -> dict[str, Any]:
        with http_errors():
            view = await staff.accounts.set_role(
                principal, user_id, body.role, tenant_id=body.tenant_id, platform=body.platform
            )
        return {"user": user_json(view)}

    @router.get("/api-keys")
    async def list_keys(principal: KeyAdmin, staff: StaffDep) -> dict[str, Any]:
        now = staff.ctx.clock.now()
        with http_errors():
            keys = await staff.api_keys.list_keys(principal)
        return {"api_keys": [key_json(view, view.status(now)) for view in keys]}

    @router.post("/api-keys", status_code=201)
    async def create_key(principal: KeyAdmin, body: ApiKeyBody, staff: StaffDep) -> dict[str, Any]:
        """The key is in this answer only: Loket keeps its hash."""
        with http_errors():
            issued = await staff.api_keys.create(principal, name=body.name, scopes=body.scopes)
        return {"key": issued.key, "api_key": key_json(issued.view, "active")}

    @router.delete("/api-keys/{key_id}")
    async def revoke_key(principal: KeyAdmin, key_id: str, staff: StaffDep) -> dict[str, Any]:
        with http_errors():
            view = await staff.api_keys.revoke(principal, key_id)
        return {"api_key": key_json(view, view.status(staff.ctx.clock.now()))}

    @router.post("/api-keys/{key_id}/rotate", status_code=201)
    async def rotate_key(
        principal: KeyAdmin, key_id: str, staff: StaffDep, body: RotateBody | None = None
    ) -> dict[str, Any]:
        """A new key; the old one keeps working for the overlap (default 24 h, at most 7 days)."""
        body = body or RotateBody()
        with http_errors():
            issued = await staff.api_keys.rotate(principal, key_id, overlap=timedelta(hours=body.overlap_hours))
        return {"key": issued.key, "api_key": key_json(issued.view, "active")}
