"""Request bodies and response shapes of the staff API."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from loket.staff.accounts import UserView
from loket.staff.apikeys import ApiKeyView
from loket.staff.permissions import Role
from loket.staff.sessions import SessionState

STATE_NAMES = {
    SessionState.ENROL: "enrolment_required",
    SessionState.TOTP: "totp_required",
    SessionState.PASSWORD_CHANGE: "password_change_required",
    SessionState.ACTIVE: "active",
}


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class LoginBody(Body):
    email: str = Field(max_length=254)
    password: str = Field(max_length=1024)
    tenant_id: str | None = Field(default=None, max_length=64)


class CodeBody(Body):
    code: str = Field(max_length=32)


class PasswordBody(Body):
    current_password: str = Field(max_length=1024)
    new_password: str = Field(max_length=1024)


class TenantBody(Body):
    tenant_id: str | None = Field(max_length=64, description="null: the platform scope (platform administrators)")


class CreateUserBody(Body):
    email: str = Field(max_length=254)
    display_name: str = Field(max_length=100)
    role: Role
    password: str | None = Field(default=None, max_length=1024, description="omit to have one generated")


class ResetBody(Body):
    password: str | None = Field(default=None, max_length=1024, description="omit to have one generated")
    reset_totp: bool = False


class RoleBody(Body):
    role: Role | None = Field(description="null removes the membership")
    platform: bool = False
    tenant_id: str | None = Field(default=None, max_length=64, description="platform administrators only")


class ApiKeyBody(Body):
    name: str = Field(max_length=100)
    scopes: list[str] = Field(min_length=1, max_length=8)


class RotateBody(Body):
    overlap_hours: float = Field(default=24.0, ge=0, le=24 * 7)


def user_json(view: UserView) -> dict[str, Any]:
    return {
        "id": view.id,
        "email": view.email,
        "display_name": view.display_name,
        "status": view.status,
        "must_change_password": view.must_change_password,
        "totp_enrolled": view.totp_enrolled,
        "memberships": [{"tenant_id": m.tenant_id, "role": m.role.value} for m in view.memberships],
        "created_at": view.created_at.isoformat(),
    }


def key_json(view: ApiKeyView, status: str) -> dict[str, Any]:
    return {
        "id": view.id,
        "tenant_id": view.tenant_id,
        "name": view.name,
        "hint": f"lkt_{view.tenant_id}_…{view.hint}",
        "scopes": list(view.scopes),
        "status": status,
        "created_at": view.created_at.isoformat(),
        "created_by": view.created_by,
        "expires_at": view.expires_at.isoformat() if view.expires_at else None,
        "revoked_at": view.revoked_at.isoformat() if view.revoked_at else None,
        "last_used_at": view.last_used_at.isoformat() if view.last_used_at else None,
        "rotated_from": view.rotated_from,
    }
