"""Signing in to the console with HTML forms over the staff sign-in service: password, then TOTP (with
enrolment and backup codes the first time), then a forced password change when an administrator set
the password; logout, the tenant switcher and the language switch.

The password form has no session yet, so it carries a pre-session CSRF token (a random cookie echoed
in the form); every later form carries the session's own token, checked by the staff machinery.
"""

from __future__ import annotations

import hmac
import secrets
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from loket.console.deps import LANGUAGE_COOKIE, ConsoleUser, forget_profile, language_of, load_user
from loket.console.render import render
from loket.i18n.catalog import LANGUAGES, t
from loket.staff.access import Principal
from loket.staff.errors import InvalidCode, InvalidCredentials, StaffError, Throttled, WrongStep
from loket.staff.passwords import WeakPassword
from loket.staff.sessions import SessionState
from loket.staff.signin import Step
from loket.staff.web.deps import (
    StaffDep,
    clear_session_cookie,
    client_address,
    public,
    require,
    session_token,
    set_session_cookie,
    signing_in,
)

PRE_CSRF_COOKIE = "loket_console_pre"
HOME = "/console/inbox"
SigningIn = Annotated[str, Depends(signing_in)]
Self = Annotated[Principal, Depends(require("account.self"))]
_NEXT_BY_STATE = {
    SessionState.ENROL: "/console/login/enrol",
    SessionState.TOTP: "/console/login/totp",
    SessionState.PASSWORD_CHANGE: "/console/login/password",
}


def safe_next(target: str | None) -> str:
    """Only a path inside the console: never an open redirect."""
    if not target or not target.startswith("/console/") or target.startswith("//") or "\\" in target:
        return HOME
    if target.startswith(("/console/login", "/console/logout")):
        return HOME
    return target


def _message(language: str, exc: StaffError | WeakPassword) -> str:
    if isinstance(exc, Throttled):
        return t(language, "console.login.throttled", seconds=exc.retry_after_seconds)
    if isinstance(exc, InvalidCredentials):
        return t(language, "console.login.invalid")
    if isinstance(exc, InvalidCode):
        return t(language, "console.login.invalid_code")
    if isinstance(exc, WeakPassword):
        return t(language, "console.login.weak_password", problems="; ".join(exc.problems))
    return str(exc)


def _after(step: Step, staff: StaffDep, target: str) -> RedirectResponse:
    response = RedirectResponse(_NEXT_BY_STATE.get(step.state, safe_next(target)), status_code=303)
    _keep(response, staff, step)
    if step.state is not SessionState.ACTIVE and target != HOME:
        response.set_cookie("loket_console_next", safe_next(target), path="/console", httponly=True, samesite="strict")
    return response


def _keep(response: Response, staff: StaffDep, step: Step) -> None:
    lifetime = staff.ctx.policy.absolute_timeout
    set_session_cookie(response, step.token, max_age_seconds=int(lifetime.total_seconds()))


def _pre_csrf(request: Request) -> str:
    token = request.cookies.get(PRE_CSRF_COOKIE) or secrets.token_urlsafe(24)
    request.state.console_csrf = token
    return token


def add_login_routes(router: APIRouter) -> None:
    @router.get("/login", dependencies=[public("the sign-in page: anyone may see the form")])
    async def login_form(request: Request, staff: StaffDep, next: str | None = None) -> Response:
        try:
            await staff.signin.principal(session_token(request))
            return RedirectResponse(safe_next(next), status_code=303)
        except StaffError:
            pass
        token = _pre_csrf(request)
        response = render(request, "console/login.html", {"next": safe_next(next), "error": None})
        response.set_cookie(PRE_CSRF_COOKIE, token, path="/console", httponly=True, samesite="strict", secure=True)
        return response

    @router.post("/login", dependencies=[public("the password step is where a staff member proves who they are")])
    async def login(
        request: Request,
        staff: StaffDep,
        email: Annotated[str, Form(max_length=254)] = "",
        password: Annotated[str, Form(max_length=1024)] = "",
        csrf_token: Annotated[str, Form(max_length=128)] = "",
        next: Annotated[str, Form(max_length=500)] = HOME,
    ) -> Response:
        language = language_of(request)
        expected = request.cookies.get(PRE_CSRF_COOKIE, "")
        if not expected or not hmac.compare_digest(expected.encode(), csrf_token.encode()):
            return _login_again(request, next, "console.login.expired_form", status=403)
        if not email.strip() or not password:
            return _login_again(request, next, "console.login.missing", status=422)
        try:
            step = await staff.signin.password(email, password, address=client_address(request))
        except (StaffError, WeakPassword) as exc:
            status = 429 if isinstance(exc, Throttled) else 401
            _pre_csrf(request)
            page = render(
                request,
                "console/login.html",
                {"next": safe_next(next), "error": _message(language, exc), "email": email},
                status_code=status,
            )
            if isinstance(exc, Throttled):
                page.headers["Retry-After"] = str(exc.retry_after_seconds)
            return page
        return _after(step, staff, next)

    @router.get("/login/totp")
    async def totp_form(request: Request, token: SigningIn, staff: StaffDep) -> Response:
        request.state.console_csrf = staff.ctx.keys.csrf_token(token)
        return render(request, "console/login_totp.html", {"error": None, "enrolment": None, "retry": False})

    @router.post("/login/totp")
    async def totp_verify(
        request: Request, token: SigningIn, staff: StaffDep, code: Annotated[str, Form(max_length=64)] = ""
    ) -> Response:
        language = language_of(request)
        try:
            step = await staff.signin.verify(token, code.strip(), address=client_address(request))
        except StaffError as exc:
            if isinstance(exc, WrongStep):
                return RedirectResponse("/console/login", status_code=303)
            request.state.console_csrf = staff.ctx.keys.csrf_token(token)
            view = await _session_state(staff, token)
            status = 429 if isinstance(exc, Throttled) else 401
            if view is None:
                return RedirectResponse("/console/login", status_code=303)
            # at enrolment the secret stays (the authenticator already holds it); a new QR is one button away
            name = "console/login_enrol.html" if view is SessionState.ENROL else "console/login_totp.html"
            context = {"error": _message(language, exc), "enrolment": None, "retry": True}
            return render(request, name, context, status_code=status)
        target = request.cookies.get("loket_console_next") or HOME
        if step.backup_codes:
            request.state.console_csrf = step.csrf_token
            page = render(
                request,
                "console/login_backup.html",
                {"codes": step.backup_codes, "continue_to": _NEXT_BY_STATE.get(step.state, safe_next(target))},
            )
            _keep(page, staff, step)
            return page
        return _after(step, staff, target)

    @router.get("/login/enrol")
    async def enrol_intro(request: Request, token: SigningIn, staff: StaffDep) -> Response:
        request.state.console_csrf = staff.ctx.keys.csrf_token(token)
        return render(request, "console/login_enrol.html", {"error": None, "enrolment": None, "retry": False})

    @router.post("/login/enrol")
    async def enrol(request: Request, token: SigningIn, staff: StaffDep) -> Response:
        """A new TOTP secret as a QR code; the form below it confirms with a first code."""
        try:
            enrolment = await staff.signin.enrol(token)
        except WrongStep:
            return RedirectResponse("/console/login", status_code=303)
        request.state.console_csrf = staff.ctx.keys.csrf_token(token)
        return render(request, "console/login_enrol.html", {"error": None, "enrolment": enrolment, "retry": False})

    @router.get("/login/password")
    async def password_form(request: Request, token: SigningIn, staff: StaffDep) -> Response:
        request.state.console_csrf = staff.ctx.keys.csrf_token(token)
        return render(request, "console/login_password.html", {"error": None})

    @router.post("/login/password")
    async def change_password(
        request: Request,
        token: SigningIn,
        staff: StaffDep,
        current_password: Annotated[str, Form(max_length=1024)] = "",
        new_password: Annotated[str, Form(max_length=1024)] = "",
    ) -> Response:
        try:
            step = await staff.signin.change_password(token, current_password, new_password)
        except (StaffError, WeakPassword) as exc:
            request.state.console_csrf = staff.ctx.keys.csrf_token(token)
            context = {"error": _message(language_of(request), exc)}
            return render(request, "console/login_password.html", context, status_code=422)
        return _after(step, staff, request.cookies.get("loket_console_next") or HOME)

    @router.post("/logout")
    async def logout(token: SigningIn, staff: StaffDep) -> Response:
        try:
            await staff.signin.logout(token)
        except StaffError:
            pass  # already ended: signing out again is not an error
        response = RedirectResponse("/console/login", status_code=303)
        clear_session_cookie(response)
        return response

    @router.post("/tenant")
    async def switch_tenant(
        request: Request,
        principal: Self,
        staff: StaffDep,
        tenant_id: Annotated[str, Form(max_length=64)] = "",
        next: Annotated[str, Form(max_length=500)] = HOME,
    ) -> Response:
        try:
            step = await staff.signin.switch_tenant(principal, tenant_id or None)
        except StaffError as exc:
            request.state.console_user = await load_user(request, staff, principal)
            return render(request, "console/error.html", {"message": str(exc)}, status_code=403)
        forget_profile(principal.session_id)
        response = RedirectResponse(safe_next(next), status_code=303)
        _keep(response, staff, step)
        return response

    @router.post("/language", dependencies=[public("only the display language of the console, kept in a cookie")])
    async def language(
        language: Annotated[str, Form(max_length=8)] = "id", next: Annotated[str, Form(max_length=500)] = HOME
    ) -> Response:
        chosen = language if language in LANGUAGES else "id"
        target = next if next.startswith("/console/login") else safe_next(next)
        response = RedirectResponse(target, status_code=303)
        response.set_cookie(LANGUAGE_COOKIE, chosen, max_age=365 * 86400, path="/", samesite="strict", secure=True)
        return response


def _login_again(request: Request, next: str, key: str, *, status: int) -> Response:
    token = _pre_csrf(request)
    page = render(
        request,
        "console/login.html",
        {"next": safe_next(next), "error": t(language_of(request), key)},
        status_code=status,
    )
    page.set_cookie(PRE_CSRF_COOKIE, token, path="/console", httponly=True, samesite="strict", secure=True)
    return page


async def _session_state(staff: StaffDep, token: str) -> SessionState | None:
    try:
        return (await staff.signin.session_of(token)).state
    except StaffError:
        return None


__all__ = ["ConsoleUser", "add_login_routes", "safe_next"]
