"""Walk every route of an app with every role and check the answers against the permission matrix.

`current_principal` is overridden by a probe principal of each role; `require` answers 403 when the
role lacks the permission, and a bodiless 204 with `X-Loket-Probe: granted` when it has it, before
any handler runs, so walking the routes changes nothing. Routes for sessions still signing in and
for API keys must refuse a caller with neither (401). Plain Starlette routes and mounts (webhooks,
health, sandbox) are authenticated otherwise and must be listed in `exempt`, so none is forgotten;
FastAPI's own documentation routes (openapi.json, /docs, /redoc) are exempt by default.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from starlette.types import Message

from loket.staff.access import Principal
from loket.staff.permissions import ROLES, Role
from loket.staff.web.deps import PROBE_HEADER, REGISTRY, Requirement, current_principal

_PARAM = re.compile(r"{(\w+)(?::(\w+))?}")


@dataclass(frozen=True)
class RouteNeeds:
    path: str
    methods: tuple[str, ...]
    needs: tuple[Requirement, ...]


def _walk(dependant: Dependant) -> list[Requirement]:
    found: list[Requirement] = []
    if dependant.call is not None and dependant.call in REGISTRY:
        found.append(REGISTRY[dependant.call])
    for sub in dependant.dependencies:
        found.extend(_walk(sub))
    return found


@dataclass(frozen=True)
class _Entry:
    path: str
    methods: tuple[str, ...]
    dependant: Dependant | None  # None: not an API route (plain route, mount)


def _entries(app: FastAPI) -> list[_Entry]:
    """Routes as served, with the prefixes and dependencies of every include applied."""
    try:
        from fastapi.routing import iter_route_contexts
    except ImportError:  # FastAPI before lazy includes: app.routes is already flat
        contexts: list[Any] = list(app.routes)
    else:
        contexts = list(iter_route_contexts(app.routes))
    entries = []
    for context in contexts:
        original = getattr(context, "original_route", context)
        path = str(getattr(context, "path", None) or repr(original))
        if isinstance(original, APIRoute):
            methods = tuple(sorted(m for m in (context.methods or ()) if m != "HEAD"))
            entries.append(_Entry(path, methods, context.dependant))
        else:
            entries.append(_Entry(path, (), None))
    return entries


def route_needs(app: FastAPI) -> list[RouteNeeds]:
    """What each API route declares it needs, from the registry of `require`, `signing_in`, ..."""
    return [
        RouteNeeds(e.path, e.methods, tuple(dict.fromkeys(_walk(e.dependant))))
        for e in _entries(app)
        if e.dependant is not None
    ]


def _docs_paths(app: FastAPI) -> set[str]:
    urls = (app.openapi_url, app.docs_url, app.redoc_url, app.swagger_ui_oauth2_redirect_url)
    return {url for url in urls if url}


def undeclared_routes(app: FastAPI, exempt: Collection[str] = ()) -> list[str]:
    """API routes that declare nothing, and other routes or mounts not listed in `exempt`."""
    allowed = set(exempt) | _docs_paths(app)
    problems = []
    for entry in _entries(app):
        if entry.dependant is not None and not _walk(entry.dependant):
            problems.append(f"{entry.path}: declares no requirement (require, signing_in, require_api_key, public)")
        elif entry.dependant is None and entry.path not in allowed:
            problems.append(f"{entry.path}: not an API route and not listed as exempt")
    return problems


def _concrete(path: str) -> str:
    return _PARAM.sub(lambda m: "1" if m.group(2) in ("int", "float") else "probe", path)


async def _status(app: FastAPI, method: str, path: str) -> tuple[int, dict[str, str]]:
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
        "headers": [(b"host", b"loket.test"), (b"content-type", b"application/json")],
        "client": ("192.0.2.1", 40000),
        "server": ("loket.test", 443),
    }
    start: dict[str, object] = {}

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        if message["type"] == "http.response.start":
            start.update(message)

    await app(scope, receive, send)
    raw = start.get("headers", [])
    headers = {k.decode().lower(): v.decode() for k, v in raw} if isinstance(raw, list) else {}
    return int(str(start.get("status", 0))), headers


def _probe(role: Role, tenant_id: str) -> Principal:
    return Principal(user_id="probe", session_id="probe", tenant_id=tenant_id, role=role, probe=True)


async def check_routes(app: FastAPI, *, exempt: Collection[str] = (), tenant_id: str = "probe-tenant") -> list[str]:
    """Every disagreement between the routes and the matrix, as readable lines (empty: all good)."""
    problems = undeclared_routes(app, exempt)
    saved = dict(app.dependency_overrides)
    try:
        for route in route_needs(app):
            permissions = [need.value for need in route.needs if need.kind == "permission"]
            kinds = {need.kind for need in route.needs}
            for method in route.methods:
                path = _concrete(route.path)
                if permissions:
                    for role in Role:
                        app.dependency_overrides[current_principal] = lambda role=role: _probe(role, tenant_id)
                        status, headers = await _status(app, method, path)
                        allowed = all(p in ROLES[role].permissions for p in permissions)
                        granted = status == 204 and headers.get(PROBE_HEADER.lower()) == "granted"
                        if allowed != granted or (not allowed and status != 403):
                            want = "granted" if allowed else "403"
                            problems.append(f"{method} {route.path} as {role.value}: expected {want}, got {status}")
                elif kinds & {"sign_in", "api_key"}:
                    app.dependency_overrides.pop(current_principal, None)
                    status, _ = await _status(app, method, path)
                    if status != 401:
                        problems.append(f"{method} {route.path} without credentials: expected 401, got {status}")
    finally:
        app.dependency_overrides.clear()
        app.dependency_overrides.update(saved)
    return problems


async def assert_routes_follow_matrix(
    app: FastAPI, *, exempt: Collection[str] = (), tenant_id: str = "probe-tenant"
) -> None:
    """Fail with every disagreement at once. `exempt`: paths of non-API routes and mounts."""
    problems = await check_routes(app, exempt=exempt, tenant_id=tenant_id)
    if problems:
        raise AssertionError("routes disagree with the permission matrix:\n  " + "\n  ".join(problems))
