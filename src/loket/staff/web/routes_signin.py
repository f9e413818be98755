"""Signing in and out, one's own session and profile: /v1/staff/login, /totp/*, /password, /me, ..."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response

from loket.staff.access import Principal
from loket.staff.signin import Step
from loket.staff.web.deps import (
    StaffDep,
    clear_session_cookie,
    client_address,
    http_errors,
    public,
    require,
    session_token,
    set_session_cookie,
    signing_in,
)
from loket.staff.web.schemas import STATE_NAMES, CodeBody, LoginBody, PasswordBody, TenantBody, user_json

Self = Annotated[Principal, Depends(require("account.self"))]
SigningIn = Annotated[str, Depends(signing_in)]


def _answer(response: Response, staff: StaffDep, step: Step) -> dict[str, Any]:
    lifetime = staff.ctx.policy.absolute_timeout
    set_session_cookie(response, step.token, max_age_seconds=int(lifetime.total_seconds()))
    body: dict[str, Any] = {"state": STATE_NAMES[step.state], "csrf_token": step.csrf_token}
    if step.backup_codes:
        body["backup_codes"] = list(step.backup_codes)
    return body


def add_signin_routes(router: APIRouter) -> None:
    @router.post("/login", dependencies=[public("the password step is where a staff member proves who they are")])
    async def login(body: LoginBody, request: Request, response: Response, staff: StaffDep) -> dict[str, Any]:
        """Password step. The session it opens can only continue to TOTP enrolment or verification."""
        with http_errors():
            step = await staff.signin.password(
                body.email, body.password, address=client_address(request), tenant_id=body.tenant_id
            )
        return _answer(response, staff, step)

    @router.post("/totp/enrol")
    async def totp_enrol(token: SigningIn, staff: StaffDep) -> dict[str, Any]:
        """A new TOTP secret as a QR code (SVG) and URI; confirm it with /totp/verify."""
        with http_errors():
            enrolment = await staff.signin.enrol(token)
        return {
            "secret": enrolment.secret,
            "provisioning_uri": enrolment.provisioning_uri,
            "qr_svg": enrolment.qr_svg,
        }

    @router.post("/totp/verify")
    async def totp_verify(
        token: SigningIn, body: CodeBody, request: Request, response: Response, staff: StaffDep
    ) -> dict[str, Any]:
        """A TOTP code (or a backup code); at enrolment the answer carries the backup codes, shown once."""
        with http_errors():
            step = await staff.signin.verify(token, body.code, address=client_address(request))
        return _answer(response, staff, step)

    @router.post("/password")
    async def change_password(
        token: SigningIn, body: PasswordBody, response: Response, staff: StaffDep
    ) -> dict[str, Any]:
        """Replace one's own password (required after an administrator set it); other sessions end."""
        with http_errors():
            step = await staff.signin.change_password(token, body.current_password, body.new_password)
        return _answer(response, staff, step)

    @router.post("/logout", status_code=204)
    async def logout(token: SigningIn, response: Response, staff: StaffDep) -> None:
        with http_errors():
            await staff.signin.logout(token)
        clear_session_cookie(response)

    @router.post("/sessions/revoke-all")
    async def revoke_all(principal: Self, response: Response, staff: StaffDep) -> dict[str, Any]:
        """Sign out everywhere, this session included."""
        with http_errors():
            count = await staff.signin.revoke_all(principal)
        clear_session_cookie(response)
        return {"revoked": count}

    @router.get("/me")
    async def me(principal: Self, request: Request, staff: StaffDep) -> dict[str, Any]:
        token = session_token(request) or ""
        with http_errors():
            profile = await staff.accounts.profile(principal.user_id)
            session = await staff.signin.session_of(token)
        return {
            "user": user_json(profile),
            "tenant_id": principal.tenant_id,
            "role": principal.role.value,
            "permissions": sorted(principal.permissions),
            "csrf_token": staff.ctx.keys.csrf_token(token),
            "session": {
                "id": session.id,
                "expires_at": session.expires_at.isoformat(),
                "idle_timeout_seconds": int(staff.ctx.policy.idle_timeout.total_seconds()),
            },
        }

    @router.post("/tenant")
    async def switch_tenant(principal: Self, body: TenantBody, response: Response, staff: StaffDep) -> dict[str, Any]:
        """The tenant switcher: bind this session to another tenant the user belongs to."""
        with http_errors():
            step = await staff.signin.switch_tenant(principal, body.tenant_id)
        answer = _answer(response, staff, step)
        answer["tenant_id"] = body.tenant_id
        return answer
