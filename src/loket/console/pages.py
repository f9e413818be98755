"""The registration hook: how any package adds routes and navigation entries to the console.

A package `loket.<name>` adds pages by shipping a module `loket.<name>.console_pages` (inside this
package: any `loket.console.<something>_pages` module) with a function

    def console_pages() -> Iterable[ConsolePage]: ...

`build_console_router` finds those modules, includes every page's router under `/console`, and shows
the navigation entries the signed-in person's role allows. Nothing has to be edited here.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from types import ModuleType

from fastapi import APIRouter

import loket
from loket.staff.permissions import check_permission_name

HOOK = "console_pages"


@dataclass(frozen=True)
class NavEntry:
    """A link in the console's navigation. `label` is a catalog key (src/loket/i18n/*.toml)."""

    label: str
    path: str  # absolute, e.g. "/console/complaints"
    permission: str
    order: int = 100
    shortcut: str | None = None  # a single key, documented in the navigation's title

    def __post_init__(self) -> None:
        check_permission_name(self.permission)


@dataclass(frozen=True)
class ConsolePage:
    """A router whose paths are relative to /console (e.g. "/complaints/{id}"), and its nav entry."""

    router: APIRouter
    nav: NavEntry | None = None


def _hook_modules() -> list[str]:
    names: list[str] = []
    for info in pkgutil.iter_modules(loket.__path__):
        if info.ispkg and info.name != "console":
            names.append(f"loket.{info.name}.{HOOK}")
    console_dir = list(loket.__path__)
    for info in pkgutil.iter_modules([f"{p}/console" for p in console_dir]):
        if info.name.endswith("_pages") and info.name != "pages":
            names.append(f"loket.console.{info.name}")
    return sorted(names)


def _load(name: str) -> ModuleType | None:
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name == name:  # the package simply has no console pages
            return None
        raise


def discover() -> list[ConsolePage]:
    """Every registered page of every package, in a stable order."""
    found: list[ConsolePage] = []
    for name in _hook_modules():
        module = _load(name)
        hook: Callable[[], Iterable[ConsolePage]] | None = getattr(module, HOOK, None) if module else None
        if hook is not None:
            found.extend(hook())
    return found


def navigation(pages: Iterable[ConsolePage]) -> list[NavEntry]:
    return sorted((page.nav for page in pages if page.nav is not None), key=lambda nav: (nav.order, nav.path))
