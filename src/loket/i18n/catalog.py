"""Message catalogs: one TOML file per language, keys shared, Bahasa Indonesia the default.

Texts are written in natural language by people, never assembled from fragments in code, so each
entry is a whole message with `{named}` placeholders.
"""

from __future__ import annotations

import tomllib
from functools import cache
from pathlib import Path
from typing import Any

LANGUAGES = ("id", "en")
DEFAULT_LANGUAGE = "id"
_DIR = Path(__file__).parent


class MissingMessage(KeyError):
    pass


def _flatten(prefix: str, node: dict[str, Any], out: dict[str, str]) -> None:
    for key, value in node.items():
        full = f"{prefix}.{key}" if prefix else key
        if isinstance(value, dict):
            _flatten(full, value, out)
        else:
            out[full] = str(value)


@cache
def catalog(language: str) -> dict[str, str]:
    path = _DIR / f"{language}.toml"
    with path.open("rb") as handle:
        data = tomllib.load(handle)
    out: dict[str, str] = {}
    _flatten("", data, out)
    return out


def normalise_language(language: str | None) -> str:
    return language if language in LANGUAGES else DEFAULT_LANGUAGE


def t(language: str | None, key: str, **params: Any) -> str:
    """The message `key` in `language` (falling back to Indonesian), with `params` filled in."""
    lang = normalise_language(language)
    text = catalog(lang).get(key)
    if text is None:
        text = catalog(DEFAULT_LANGUAGE).get(key)
    if text is None:
        raise MissingMessage(key)
    return text.format(**params) if params else text
