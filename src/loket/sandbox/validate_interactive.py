"""Checks for interactive messages: reply buttons, lists, CTA URL buttons and Flows (reference 2.2)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from loket.channel import limits
from loket.sandbox import fields as f
from loket.sandbox.errors import INVALID_PARAMETER, INVALID_VALUE, GraphError

JsonObject = dict[str, Any]
MediaCheck = Callable[[JsonObject, str, str], None]

INTERACTIVE_TYPES = ("button", "list", "cta_url", "flow")
_MEDIA_HEADERS = ("image", "video", "document")


def validate_interactive(interactive: JsonObject, check_media: MediaCheck) -> None:
    """`check_media(obj, kind, path)` validates a media reference in a header."""
    kind = interactive.get("type")
    if kind is None:
        raise f.missing("interactive['type']")
    f.one_of(kind, INTERACTIVE_TYPES, "interactive['type']")
    body = f.req_obj(interactive, "body", "interactive['body']")
    f.req_text(body, "text", "interactive['body']['text']", limits.INTERACTIVE_BODY_MAX)
    _header(interactive, kind, check_media)
    footer = f.obj(interactive, "footer", "interactive['footer']", required=False)
    if footer is not None:
        f.req_text(footer, "text", "interactive['footer']['text']", limits.FOOTER_TEXT_MAX)
    action = f.req_obj(interactive, "action", "interactive['action']")
    {"button": _buttons, "list": _list, "cta_url": _cta_url, "flow": _flow}[kind](action)


def _header(interactive: JsonObject, kind: str, check_media: MediaCheck) -> None:
    header = f.obj(interactive, "header", "interactive['header']", required=False)
    if header is None:
        return
    allowed = ("text",) if kind == "list" else ("text", *_MEDIA_HEADERS)
    header_type = f.one_of(header.get("type"), allowed, "interactive['header']['type']")
    if header_type == "text":
        f.req_text(header, "text", "interactive['header']['text']", limits.HEADER_TEXT_MAX)
    else:
        media = f.req_obj(header, header_type, f"interactive['header']['{header_type}']")
        check_media(media, header_type, f"interactive['header']['{header_type}']")


def _buttons(action: JsonObject) -> None:
    buttons = f.array(action, "buttons", "interactive['action']['buttons']")
    if not limits.REPLY_BUTTONS_MIN <= len(buttons) <= limits.REPLY_BUTTONS_MAX:
        raise GraphError(
            INVALID_VALUE,
            f"Param interactive['action']['buttons'] must have between {limits.REPLY_BUTTONS_MIN} and "
            f"{limits.REPLY_BUTTONS_MAX} buttons. Got {len(buttons)}.",
        )
    titles: set[str] = set()
    ids: set[str] = set()
    for index, button in enumerate(buttons):
        where = f.path("interactive", "action", "buttons", index)
        if not isinstance(button, dict):
            raise GraphError(INVALID_PARAMETER, f"Param {where} must be a JSON object.")
        f.one_of(button.get("type", "reply"), ("reply",), f"{where}['type']")
        reply = f.req_obj(button, "reply", f"{where}['reply']")
        title = f.req_text(reply, "title", f"{where}['reply']['title']", limits.BUTTON_TITLE_MAX)
        button_id = f.req_text(reply, "id", f"{where}['reply']['id']", limits.BUTTON_ID_MAX)
        if title in titles:
            raise GraphError(INVALID_VALUE, f"Param {where}['reply']['title'] duplicates another button title.")
        if button_id in ids:
            raise GraphError(INVALID_VALUE, f"Param {where}['reply']['id'] duplicates another button id.")
        titles.add(title)
        ids.add(button_id)


def _list(action: JsonObject) -> None:
    f.req_text(action, "button", "interactive['action']['button']", limits.LIST_BUTTON_LABEL_MAX)
    sections = f.array(action, "sections", "interactive['action']['sections']")
    if not 1 <= len(sections) <= limits.LIST_SECTIONS_MAX:
        raise GraphError(
            INVALID_VALUE,
            f"Param interactive['action']['sections'] must have between 1 and {limits.LIST_SECTIONS_MAX} "
            f"sections. Got {len(sections)}.",
        )
    row_ids: set[str] = set()
    total_rows = 0
    for s_index, section in enumerate(sections):
        where = f.path("interactive", "action", "sections", s_index)
        if not isinstance(section, dict):
            raise GraphError(INVALID_PARAMETER, f"Param {where} must be a JSON object.")
        f.text(section, "title", f"{where}['title']", limits.LIST_SECTION_TITLE_MAX, required=len(sections) > 1)
        rows = f.array(section, "rows", f"{where}['rows']")
        if not rows:
            raise GraphError(INVALID_VALUE, f"Param {where}['rows'] must have at least 1 row.")
        for r_index, row in enumerate(rows):
            row_path = f"{where}['rows'][{r_index}]"
            if not isinstance(row, dict):
                raise GraphError(INVALID_PARAMETER, f"Param {row_path} must be a JSON object.")
            row_id = f.req_text(row, "id", f"{row_path}['id']", limits.LIST_ROW_ID_MAX)
            f.req_text(row, "title", f"{row_path}['title']", limits.LIST_ROW_TITLE_MAX)
            f.text(row, "description", f"{row_path}['description']", limits.LIST_ROW_DESCRIPTION_MAX, required=False)
            if row_id in row_ids:
                raise GraphError(INVALID_VALUE, f"Param {row_path}['id'] duplicates another row id.")
            row_ids.add(row_id)
        total_rows += len(rows)
    if total_rows > limits.LIST_ROWS_TOTAL_MAX:
        raise GraphError(
            INVALID_VALUE,
            f"Param interactive['action']['sections'] has {total_rows} rows in total. "
            f"Max rows: {limits.LIST_ROWS_TOTAL_MAX}.",
        )


def _cta_url(action: JsonObject) -> None:
    f.one_of(action.get("name"), ("cta_url",), "interactive['action']['name']")
    parameters = f.req_obj(action, "parameters", "interactive['action']['parameters']")
    f.req_text(
        parameters, "display_text", "interactive['action']['parameters']['display_text']", limits.CTA_DISPLAY_TEXT_MAX
    )
    url = f.req_text(parameters, "url", "interactive['action']['parameters']['url']")
    f.http_url(url, "interactive['action']['parameters']['url']", limits.CTA_URL_MAX)


def _flow(action: JsonObject) -> None:
    where = "interactive['action']['parameters']"
    f.one_of(action.get("name"), ("flow",), "interactive['action']['name']")
    parameters = f.req_obj(action, "parameters", where)
    version = parameters.get("flow_message_version")
    if version is None:
        raise f.missing(f"{where}['flow_message_version']")
    f.one_of(str(version), ("3",), f"{where}['flow_message_version']")
    if parameters.get("flow_id") is None and parameters.get("flow_name") is None:
        raise f.missing(f"{where}['flow_id'] or {where}['flow_name']")
    f.text(parameters, "flow_token", f"{where}['flow_token']", required=False)
    f.req_text(parameters, "flow_cta", f"{where}['flow_cta']", limits.CTA_DISPLAY_TEXT_MAX)
    flow_action = f.one_of(
        parameters.get("flow_action", "navigate"), ("navigate", "data_exchange"), f"{where}['flow_action']"
    )
    if flow_action == "navigate":
        payload = f.obj(parameters, "flow_action_payload", f"{where}['flow_action_payload']", required=False)
        if payload is not None:
            f.req_text(payload, "screen", f"{where}['flow_action_payload']['screen']")
    mode = parameters.get("mode")
    if mode is not None:
        f.one_of(mode, ("draft", "published"), f"{where}['mode']")
