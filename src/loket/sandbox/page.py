"""The phone simulator page: one HTML file with its CSS and JS, served from package data. Every URL in
it is relative, so it works under whatever prefix the sandbox is mounted at."""

from __future__ import annotations

from functools import cache
from importlib import resources

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

router = APIRouter()

_STATIC = {
    "phone.css": "text/css; charset=utf-8",
    "phone.js": "text/javascript; charset=utf-8",
}
_SECURITY_HEADERS = {
    "Cache-Control": "no-cache",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


@cache
def _asset(name: str) -> bytes:
    return resources.files("loket.sandbox").joinpath("static", name).read_bytes()


@router.get("/", include_in_schema=False)
async def page(request: Request) -> Response:
    if not request.url.path.endswith("/"):
        # Relative asset URLs resolve against the directory, so the page must be served from one.
        return RedirectResponse(request.url.replace(path=request.url.path + "/"), status_code=307)
    headers = _SECURITY_HEADERS | {
        "Content-Security-Policy": (
            "default-src 'self'; img-src 'self' data: blob: https: http:; style-src 'self'; "
            "script-src 'self'; connect-src 'self'; frame-ancestors 'self'"
        )
    }
    return Response(_asset("phone.html"), media_type="text/html; charset=utf-8", headers=headers)


@router.get("/static/{name}", include_in_schema=False)
async def static(name: str) -> Response:
    media_type = _STATIC.get(name)
    if media_type is None:
        return Response("not found", status_code=404, media_type="text/plain")
    return Response(_asset(name), media_type=media_type, headers=_SECURITY_HEADERS)
