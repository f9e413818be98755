"""Field checks for request bodies, answering with the codes Meta uses: 100 for a malformed or unsupported
parameter, 131008 for a missing one, 131009 for a value out of bounds. Details name the field the way
Meta does: ``interactive['action']['buttons'][0]['reply']['title']``."""

from __future__ import annotations

from typing import Any

from loket.sandbox.errors import INVALID_PARAMETER, INVALID_VALUE, REQUIRED_PARAMETER, GraphError

JsonObject = dict[str, Any]


def path(base: str, *keys: str | int) -> str:
    return base + "".join(f"[{key}]" if isinstance(key, int) else f"['{key}']" for key in keys)


def missing(field_path: str) -> GraphError:
    return GraphError(REQUIRED_PARAMETER, f"The parameter {field_path} is required.")


def obj(parent: JsonObject, key: str, field_path: str, *, required: bool = True) -> JsonObject | None:
    value = parent.get(key)
    if value is None:
        if required:
            raise missing(field_path)
        return None
    if not isinstance(value, dict):
        raise GraphError(INVALID_PARAMETER, f"Param {field_path} must be a JSON object.")
    return value


def req_obj(parent: JsonObject, key: str, field_path: str) -> JsonObject:
    value = obj(parent, key, field_path)
    assert value is not None
    return value


def array(parent: JsonObject, key: str, field_path: str) -> list[Any]:
    value = parent.get(key)
    if value is None:
        raise missing(field_path)
    if not isinstance(value, list):
        raise GraphError(INVALID_PARAMETER, f"Param {field_path} must be an array.")
    return value


def text(
    parent: JsonObject,
    key: str,
    field_path: str,
    max_len: int | None = None,
    *,
    required: bool = True,
    min_len: int = 1,
) -> str | None:
    value = parent.get(key)
    if value is None:
        if required:
            raise missing(field_path)
        return None
    if not isinstance(value, str):
        raise GraphError(INVALID_PARAMETER, f"Param {field_path} must be a string.")
    if len(value) < min_len or (max_len is not None and len(value) > max_len):
        bound = f", Max length: {max_len}" if max_len is not None else ""
        raise GraphError(
            INVALID_VALUE,
            f"Param {field_path} length invalid. Min length: {min_len}{bound}. Got {len(value)} characters.",
        )
    return value


def req_text(parent: JsonObject, key: str, field_path: str, max_len: int | None = None) -> str:
    value = text(parent, key, field_path, max_len)
    assert value is not None
    return value


def one_of(value: object, allowed: tuple[str, ...], field_path: str, code: int = INVALID_PARAMETER) -> str:
    if not isinstance(value, str) or value not in allowed:
        raise GraphError(code, f"Param {field_path} must be one of {{{', '.join(allowed)}}}.")
    return value


def http_url(value: str, field_path: str, max_len: int | None = None) -> str:
    if not value.startswith(("https://", "http://")) or len(value) < 10:
        raise GraphError(INVALID_VALUE, f"Param {field_path} must be a valid http(s) URL.")
    if max_len is not None and len(value) > max_len:
        raise GraphError(INVALID_VALUE, f"Param {field_path} length invalid. Max length: {max_len}.")
    return value


def number(parent: JsonObject, key: str, field_path: str, low: float, high: float) -> float:
    value = parent.get(key)
    if value is None:
        raise missing(field_path)
    try:
        result = float(value) if isinstance(value, int | float | str) and not isinstance(value, bool) else None
    except ValueError:
        result = None
    if result is None or not low <= result <= high:
        raise GraphError(INVALID_VALUE, f"Param {field_path} must be a number between {low:g} and {high:g}.")
    return result
