"""Rendering console pages: one Jinja2 environment, autoescaped, finding templates in every package.

Template names carry their package's folder (`console/base.html`, `complaints/list.html`), looked up in
`src/loket/<package>/templates/`. `render` adds what the layout needs: the signed-in person, tenant,
language, CSRF token, navigation and the CSP nonce.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import ChoiceLoader, Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

import loket
from loket.console.deps import ConsoleUser, language_of
from loket.console.pages import NavEntry
from loket.i18n.catalog import MissingMessage, t
from loket.i18n.formatting import rupiah

log = logging.getLogger(__name__)


def template_dirs() -> list[Path]:
    dirs: list[Path] = []
    for root in loket.__path__:
        base = Path(root)
        dirs.append(base / "console" / "templates")
        dirs.extend(sorted(p for p in base.glob("*/templates") if p.is_dir() and p.parent.name != "console"))
    return dirs


@cache
def environment() -> Environment:
    env = Environment(
        loader=ChoiceLoader([FileSystemLoader(str(d)) for d in template_dirs()]),
        autoescape=select_autoescape(["html", "svg", "xml"], default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["rupiah"] = rupiah
    return env


def translator(language: str) -> Any:
    def translate(key: str, **params: Any) -> str:
        return t(language, key, **params)

    return translate


@dataclass(frozen=True)
class NavLink:
    label: str  # translated
    path: str
    shortcut: str | None


def navigation_for(request: Request, user: ConsoleUser | None, language: str) -> list[NavLink]:
    entries: list[NavEntry] = getattr(request.app.state, "console_nav", [])
    links = []
    for entry in entries:
        if user is None or not user.can(entry.permission):
            continue
        try:
            label = t(language, entry.label)
        except MissingMessage:  # a page registered before its catalog entry: show the key, not a 500
            log.warning("console navigation label %s is missing from the catalogs", entry.label)
            label = entry.label
        links.append(NavLink(label, entry.path, entry.shortcut))
    return links


def render(
    request: Request, name: str, context: dict[str, Any] | None = None, *, status_code: int = 200
) -> HTMLResponse:
    """The page `name` with `context`, plus: request, user, tenant, lang, _ (catalog), csrf_token, nav, nonce."""
    user: ConsoleUser | None = getattr(request.state, "console_user", None)
    language = user.language if user else language_of(request)
    values: dict[str, Any] = {
        "request": request,
        "user": user,
        "tenant": user.tenant_id if user else None,
        "lang": language,
        "_": translator(language),
        "csrf_token": user.csrf_token if user else getattr(request.state, "console_csrf", ""),
        "nav": navigation_for(request, user, language),
        "nonce": getattr(request.state, "csp_nonce", ""),
        "current_path": request.url.path,
    }
    values.update(context or {})
    html = environment().get_template(name).render(values)
    return HTMLResponse(html, status_code=status_code, headers={"Cache-Control": "no-store"})


def svg(markup: str) -> Markup:
    """Trusted SVG built by our own chart code (its text parts already escaped)."""
    return Markup(markup)  # noqa: S704
