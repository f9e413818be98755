"""Outgoing Cloud API messages: typed, and checked against Meta's limits before anything is sent.

Each message's `to_payload()` gives the `type` plus type-object part of the body; `build_send_body`
wraps it in the envelope. Wire shapes: docs/reference whatsapp-cloud-api.md section 2.2.
Errors name the field and the rule, never the value (it may be customer data).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import ClassVar, Literal, Protocol, TypeAlias
from urllib.parse import urlsplit

from loket.channel import limits
from loket.channel.errors import InvalidOutgoingMessage

JSONValue: TypeAlias = "str | int | float | bool | list[JSONValue] | dict[str, JSONValue] | None"
JSONObject: TypeAlias = dict[str, JSONValue]

FLOW_MESSAGE_VERSION = "3"

_TEMPLATE_NAME = re.compile(r"[a-z0-9_]+")
_LANGUAGE_CODE = re.compile(r"[a-z]{2,3}(_[A-Z]{2})?")
_CURRENCY_CODE = re.compile(r"[A-Z]{3}")
_TEMPLATE_BUTTON_INDEXES = range(limits.TEMPLATE_QUICK_REPLY_BUTTONS_MAX)
# Meta refuses template parameters with these (error 132018).
_PARAM_FORBIDDEN = re.compile(r"[\n\t]| {5,}")


# --- checks ---------------------------------------------------------------------------------------


def _text(path: str, value: str, limit: int) -> None:
    if not value.strip():
        raise InvalidOutgoingMessage(path, "must not be empty")
    if len(value) > limit:
        raise InvalidOutgoingMessage(path, f"has {len(value)} characters; the limit is {limit}")


def _optional_text(path: str, value: str | None, limit: int) -> None:
    if value is not None:
        _text(path, value, limit)


def _present(path: str, value: str) -> None:
    if not value.strip():
        raise InvalidOutgoingMessage(path, "must not be empty")


def _unique(path: str, attribute: str, values: Sequence[str], *, fold: bool = False) -> None:
    """Duplicates compare after trimming (and case-folding titles): they look the same to the user."""
    seen: dict[str, int] = {}
    for index, value in enumerate(values):
        key = value.strip().casefold() if fold else value
        if key in seen:
            raise InvalidOutgoingMessage(f"{path}[{index}].{attribute}", f"duplicates {path}[{seen[key]}].{attribute}")
        seen[key] = index


def _http_url(path: str, value: str, limit: int) -> None:
    _text(path, value, limit)
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise InvalidOutgoingMessage(path, "must be an absolute http(s) URL")


def _has_emoji(value: str) -> bool:
    return any(
        unicodedata.category(char) == "So" or 0x1F000 <= ord(char) <= 0x1FAFF or char in "\u200d\ufe0f"
        for char in value
    )


# --- interactive framing --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MediaHeader:
    """An interactive header showing uploaded media (reply buttons and CTA URL messages)."""

    kind: Literal["image", "video", "document"]
    media_id: str
    filename: str | None = None  # documents only

    def validate(self, path: str) -> None:
        if self.kind not in ("image", "video", "document"):
            raise InvalidOutgoingMessage(f"{path}.kind", "must be image, video or document")
        _present(f"{path}.media_id", self.media_id)
        if self.filename is not None:
            if self.kind != "document":
                raise InvalidOutgoingMessage(f"{path}.filename", "is only allowed on a document")
            _present(f"{path}.filename", self.filename)

    def to_payload(self) -> JSONObject:
        media: JSONObject = {"id": self.media_id}
        if self.filename is not None:
            media["filename"] = self.filename
        return {"type": self.kind, self.kind: media}


Header: TypeAlias = "str | MediaHeader"


def _validate_frame(body: str, header: Header | None, footer: str | None) -> None:
    _text("body", body, limits.INTERACTIVE_BODY_MAX)
    if isinstance(header, MediaHeader):
        header.validate("header")
    else:
        _optional_text("header", header, limits.HEADER_TEXT_MAX)
    _optional_text("footer", footer, limits.FOOTER_TEXT_MAX)


def _interactive(kind: str, body: str, header: Header | None, footer: str | None, action: JSONObject) -> JSONObject:
    interactive: JSONObject = {"type": kind}
    if isinstance(header, MediaHeader):
        interactive["header"] = header.to_payload()
    elif header is not None:
        interactive["header"] = {"type": "text", "text": header}
    interactive["body"] = {"text": body}
    if footer is not None:
        interactive["footer"] = {"text": footer}
    interactive["action"] = action
    return {"type": "interactive", "interactive": interactive}


class _Message:
    __slots__ = ()
    kind: ClassVar[str]

    def validate(self) -> None:
        raise NotImplementedError

    def _payload(self) -> JSONObject:
        raise NotImplementedError

    def to_payload(self) -> JSONObject:
        """The `type` and type-object part of a send body; raises InvalidOutgoingMessage."""
        self.validate()
        return self._payload()


# --- free-form messages ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Text(_Message):
    kind: ClassVar[str] = "text"
    body: str
    preview_url: bool = False

    def validate(self) -> None:
        _text("body", self.body, limits.TEXT_BODY_MAX)

    def _payload(self) -> JSONObject:
        return {"type": "text", "text": {"body": self.body, "preview_url": self.preview_url}}


@dataclass(frozen=True, slots=True)
class ReplyButton:
    id: str
    title: str


@dataclass(frozen=True, slots=True)
class ReplyButtons(_Message):
    kind: ClassVar[str] = "interactive.button"
    body: str
    buttons: tuple[ReplyButton, ...]
    header: Header | None = None
    footer: str | None = None

    def validate(self) -> None:
        _validate_frame(self.body, self.header, self.footer)
        count = len(self.buttons)
        if not limits.REPLY_BUTTONS_MIN <= count <= limits.REPLY_BUTTONS_MAX:
            raise InvalidOutgoingMessage(
                "buttons",
                f"has {count} buttons; {limits.REPLY_BUTTONS_MIN} to {limits.REPLY_BUTTONS_MAX} allowed",
            )
        for index, button in enumerate(self.buttons):
            _text(f"buttons[{index}].id", button.id, limits.BUTTON_ID_MAX)
            _text(f"buttons[{index}].title", button.title, limits.BUTTON_TITLE_MAX)
        _unique("buttons", "id", [button.id for button in self.buttons])
        _unique("buttons", "title", [button.title for button in self.buttons], fold=True)

    def _payload(self) -> JSONObject:
        buttons: list[JSONValue] = [
            {"type": "reply", "reply": {"id": button.id, "title": button.title}} for button in self.buttons
        ]
        return _interactive("button", self.body, self.header, self.footer, {"buttons": buttons})


@dataclass(frozen=True, slots=True)
class ListRow:
    id: str
    title: str
    description: str | None = None


@dataclass(frozen=True, slots=True)
class ListSection:
    title: str | None  # required once there is more than one section
    rows: tuple[ListRow, ...]


@dataclass(frozen=True, slots=True)
class ListMessage(_Message):
    kind: ClassVar[str] = "interactive.list"
    body: str
    button: str
    sections: tuple[ListSection, ...]
    header: str | None = None
    footer: str | None = None

    def validate(self) -> None:
        _validate_frame(self.body, self.header, self.footer)
        _text("button", self.button, limits.LIST_BUTTON_LABEL_MAX)
        count = len(self.sections)
        if not 1 <= count <= limits.LIST_SECTIONS_MAX:
            raise InvalidOutgoingMessage("sections", f"has {count} sections; 1 to {limits.LIST_SECTIONS_MAX} allowed")
        row_ids: list[str] = []
        for s_index, section in enumerate(self.sections):
            path = f"sections[{s_index}]"
            if section.title is None and count > 1:
                raise InvalidOutgoingMessage(f"{path}.title", "is required when there are several sections")
            _optional_text(f"{path}.title", section.title, limits.LIST_SECTION_TITLE_MAX)
            if not section.rows:
                raise InvalidOutgoingMessage(f"{path}.rows", "must not be empty")
            for r_index, row in enumerate(section.rows):
                _text(f"{path}.rows[{r_index}].id", row.id, limits.LIST_ROW_ID_MAX)
                _text(f"{path}.rows[{r_index}].title", row.title, limits.LIST_ROW_TITLE_MAX)
                _optional_text(f"{path}.rows[{r_index}].description", row.description, limits.LIST_ROW_DESCRIPTION_MAX)
                row_ids.append(row.id)
        if len(row_ids) > limits.LIST_ROWS_TOTAL_MAX:
            raise InvalidOutgoingMessage(
                "sections",
                f"has {len(row_ids)} rows in total; at most {limits.LIST_ROWS_TOTAL_MAX} allowed",
            )
        _unique("rows", "id", row_ids)

    def _payload(self) -> JSONObject:
        sections: list[JSONValue] = []
        for section in self.sections:
            rows: list[JSONValue] = []
            for row in section.rows:
                entry: JSONObject = {"id": row.id, "title": row.title}
                if row.description is not None:
                    entry["description"] = row.description
                rows.append(entry)
            item: JSONObject = {} if section.title is None else {"title": section.title}
            item["rows"] = rows
            sections.append(item)
        action: JSONObject = {"button": self.button, "sections": sections}
        return _interactive("list", self.body, self.header, self.footer, action)


@dataclass(frozen=True, slots=True)
class CtaUrl(_Message):
    kind: ClassVar[str] = "interactive.cta_url"
    body: str
    display_text: str
    url: str
    header: Header | None = None
    footer: str | None = None

    def validate(self) -> None:
        _validate_frame(self.body, self.header, self.footer)
        _text("display_text", self.display_text, limits.CTA_DISPLAY_TEXT_MAX)
        _http_url("url", self.url, limits.CTA_URL_MAX)

    def _payload(self) -> JSONObject:
        action: JSONObject = {
            "name": "cta_url",
            "parameters": {"display_text": self.display_text, "url": self.url},
        }
        return _interactive("cta_url", self.body, self.header, self.footer, action)


@dataclass(frozen=True, slots=True)
class FlowMessage(_Message):
    """Opens a WhatsApp Flow; exactly one of `flow_id` and `flow_name`.

    `navigate` opens `screen` (with optional `data`); `data_exchange` asks our endpoint for the first
    screen, so it takes neither. `draft=True` sends an unpublished flow, for testing.
    """

    kind: ClassVar[str] = "interactive.flow"
    body: str
    flow_token: str
    flow_cta: str
    flow_id: str | None = None
    flow_name: str | None = None
    flow_action: Literal["navigate", "data_exchange"] = "navigate"
    screen: str | None = None
    data: Mapping[str, JSONValue] | None = None
    draft: bool = False
    header: str | None = None
    footer: str | None = None

    def validate(self) -> None:
        _validate_frame(self.body, self.header, self.footer)
        if (self.flow_id is None) == (self.flow_name is None):
            raise InvalidOutgoingMessage("flow_id", "exactly one of flow_id and flow_name is required")
        if self.flow_id is not None:
            _present("flow_id", self.flow_id)
        if self.flow_name is not None:
            _present("flow_name", self.flow_name)
        _present("flow_token", self.flow_token)
        _text("flow_cta", self.flow_cta, limits.FLOW_CTA_MAX)
        if _has_emoji(self.flow_cta):
            raise InvalidOutgoingMessage("flow_cta", "must not contain emoji")
        if self.flow_action == "navigate":
            if self.screen is None:
                raise InvalidOutgoingMessage("screen", "is required to navigate")
            _present("screen", self.screen)
            if self.data is not None and not self.data:
                raise InvalidOutgoingMessage("data", "must not be an empty object; leave it out instead")
        elif self.flow_action == "data_exchange":
            if self.screen is not None or self.data is not None:
                raise InvalidOutgoingMessage("screen", "is only allowed to navigate")
        else:
            raise InvalidOutgoingMessage("flow_action", "must be navigate or data_exchange")

    def _payload(self) -> JSONObject:
        parameters: JSONObject = {"flow_message_version": FLOW_MESSAGE_VERSION, "flow_token": self.flow_token}
        if self.flow_id is not None:
            parameters["flow_id"] = self.flow_id
        else:
            parameters["flow_name"] = self.flow_name
        parameters["flow_cta"] = self.flow_cta
        parameters["flow_action"] = self.flow_action
        if self.screen is not None:
            target: JSONObject = {"screen": self.screen}
            if self.data is not None:
                target["data"] = dict(self.data)
            parameters["flow_action_payload"] = target
        if self.draft:
            parameters["mode"] = "draft"
        action: JSONObject = {"name": "flow", "parameters": parameters}
        return _interactive("flow", self.body, self.header, self.footer, action)


@dataclass(frozen=True, slots=True)
class Document(_Message):
    kind: ClassVar[str] = "document"
    media_id: str
    filename: str
    caption: str | None = None

    def validate(self) -> None:
        _present("media_id", self.media_id)
        _present("filename", self.filename)
        _optional_text("caption", self.caption, limits.CAPTION_MAX)

    def _payload(self) -> JSONObject:
        document: JSONObject = {"id": self.media_id, "filename": self.filename}
        if self.caption is not None:
            document["caption"] = self.caption
        return {"type": "document", "document": document}


@dataclass(frozen=True, slots=True)
class Image(_Message):
    kind: ClassVar[str] = "image"
    media_id: str
    caption: str | None = None

    def validate(self) -> None:
        _present("media_id", self.media_id)
        _optional_text("caption", self.caption, limits.CAPTION_MAX)

    def _payload(self) -> JSONObject:
        image: JSONObject = {"id": self.media_id}
        if self.caption is not None:
            image["caption"] = self.caption
        return {"type": "image", "image": image}


@dataclass(frozen=True, slots=True)
class Reaction(_Message):
    """An emoji on one of the customer's messages; an empty emoji removes ours."""

    kind: ClassVar[str] = "reaction"
    message_id: str
    emoji: str

    def validate(self) -> None:
        _present("message_id", self.message_id)
        if self.emoji != self.emoji.strip():
            raise InvalidOutgoingMessage("emoji", "must not contain spaces")

    def _payload(self) -> JSONObject:
        return {"type": "reaction", "reaction": {"message_id": self.message_id, "emoji": self.emoji}}


# --- templates ------------------------------------------------------------------------------------


def _param_text(path: str, value: str) -> None:
    _present(path, value)
    if _PARAM_FORBIDDEN.search(value):
        raise InvalidOutgoingMessage(path, "must not contain new lines, tabs or more than 4 spaces in a row")


@dataclass(frozen=True, slots=True)
class TextParam:
    text: str

    def validate(self, path: str) -> None:
        _param_text(path, self.text)

    def to_payload(self) -> JSONObject:
        return {"type": "text", "text": self.text}


@dataclass(frozen=True, slots=True)
class CurrencyParam:
    fallback_value: str
    code: str  # ISO 4217, e.g. "IDR"
    amount_1000: int  # the amount times 1000

    def validate(self, path: str) -> None:
        _param_text(f"{path}.fallback_value", self.fallback_value)
        if not _CURRENCY_CODE.fullmatch(self.code):
            raise InvalidOutgoingMessage(f"{path}.code", "must be an ISO 4217 code such as IDR")

    def to_payload(self) -> JSONObject:
        return {
            "type": "currency",
            "currency": {"fallback_value": self.fallback_value, "code": self.code, "amount_1000": self.amount_1000},
        }


@dataclass(frozen=True, slots=True)
class DateTimeParam:
    fallback_value: str

    def validate(self, path: str) -> None:
        _param_text(f"{path}.fallback_value", self.fallback_value)

    def to_payload(self) -> JSONObject:
        return {"type": "date_time", "date_time": {"fallback_value": self.fallback_value}}


@dataclass(frozen=True, slots=True)
class ImageParam:
    media_id: str

    def validate(self, path: str) -> None:
        _present(f"{path}.media_id", self.media_id)

    def to_payload(self) -> JSONObject:
        return {"type": "image", "image": {"id": self.media_id}}


@dataclass(frozen=True, slots=True)
class DocumentParam:
    media_id: str
    filename: str | None = None

    def validate(self, path: str) -> None:
        _present(f"{path}.media_id", self.media_id)
        if self.filename is not None:
            _present(f"{path}.filename", self.filename)

    def to_payload(self) -> JSONObject:
        document: JSONObject = {"id": self.media_id}
        if self.filename is not None:
            document["filename"] = self.filename
        return {"type": "document", "document": document}


@dataclass(frozen=True, slots=True)
class QuickReplyButtonParam:
    index: int
    payload: str
    sub_type: ClassVar[str] = "quick_reply"

    def validate(self, path: str) -> None:
        _present(f"{path}.payload", self.payload)

    def to_payload(self) -> JSONObject:
        return {"type": "payload", "payload": self.payload}


@dataclass(frozen=True, slots=True)
class UrlButtonParam:
    index: int
    text: str  # the variable suffix of the button's URL
    sub_type: ClassVar[str] = "url"

    def validate(self, path: str) -> None:
        _present(f"{path}.text", self.text)

    def to_payload(self) -> JSONObject:
        return {"type": "text", "text": self.text}


@dataclass(frozen=True, slots=True)
class FlowButtonParam:
    index: int
    flow_token: str
    flow_action_data: Mapping[str, JSONValue] | None = None
    sub_type: ClassVar[str] = "flow"

    def validate(self, path: str) -> None:
        _present(f"{path}.flow_token", self.flow_token)
        if self.flow_action_data is not None and not self.flow_action_data:
            raise InvalidOutgoingMessage(f"{path}.flow_action_data", "must not be an empty object")

    def to_payload(self) -> JSONObject:
        action: JSONObject = {"flow_token": self.flow_token}
        if self.flow_action_data is not None:
            action["flow_action_data"] = dict(self.flow_action_data)
        return {"type": "action", "action": action}


HeaderParam: TypeAlias = "TextParam | ImageParam | DocumentParam"
BodyParam: TypeAlias = "TextParam | CurrencyParam | DateTimeParam"
ButtonParam: TypeAlias = "QuickReplyButtonParam | UrlButtonParam | FlowButtonParam"


@dataclass(frozen=True, slots=True)
class Template(_Message):
    """An approved template; the only kind of message allowed outside the customer service window."""

    kind: ClassVar[str] = "template"
    name: str
    language: str  # e.g. "id" or "en_US"
    header: HeaderParam | None = None
    body: tuple[BodyParam, ...] = ()
    buttons: tuple[ButtonParam, ...] = ()

    def validate(self) -> None:
        _text("name", self.name, limits.TEMPLATE_NAME_MAX)
        if not _TEMPLATE_NAME.fullmatch(self.name):
            raise InvalidOutgoingMessage("name", "must use only lower-case letters, digits and underscores")
        if not _LANGUAGE_CODE.fullmatch(self.language):
            raise InvalidOutgoingMessage("language", "must be a language code such as id or en_US")
        if self.header is not None:
            self.header.validate("header")
            if isinstance(self.header, TextParam):
                _text("header.text", self.header.text, limits.HEADER_TEXT_MAX)
        for index, param in enumerate(self.body):
            param.validate(f"body[{index}]")
        for index, button in enumerate(self.buttons):
            path = f"buttons[{index}]"
            if button.index not in _TEMPLATE_BUTTON_INDEXES:
                raise InvalidOutgoingMessage(f"{path}.index", f"must be 0 to {_TEMPLATE_BUTTON_INDEXES.stop - 1}")
            button.validate(path)
        _unique("buttons", "index", [str(button.index) for button in self.buttons])
        for sub_type, limit in (
            (QuickReplyButtonParam.sub_type, limits.TEMPLATE_QUICK_REPLY_BUTTONS_MAX),
            (UrlButtonParam.sub_type, limits.TEMPLATE_URL_BUTTONS_MAX),
        ):
            count = sum(button.sub_type == sub_type for button in self.buttons)
            if count > limit:
                raise InvalidOutgoingMessage("buttons", f"has {count} {sub_type} buttons; at most {limit} allowed")

    def _payload(self) -> JSONObject:
        components: list[JSONValue] = []
        if self.header is not None:
            components.append({"type": "header", "parameters": [self.header.to_payload()]})
        if self.body:
            components.append({"type": "body", "parameters": [param.to_payload() for param in self.body]})
        for button in self.buttons:
            components.append(
                {
                    "type": "button",
                    "sub_type": button.sub_type,
                    "index": str(button.index),
                    "parameters": [button.to_payload()],
                }
            )
        template: JSONObject = {"name": self.name, "language": {"code": self.language}}
        if components:
            template["components"] = components
        return {"type": "template", "template": template}


OutgoingMessage: TypeAlias = (
    "Text | ReplyButtons | ListMessage | CtaUrl | FlowMessage | Template | Document | Image | Reaction"
)


class Sendable(Protocol):
    """Anything the client can send: the messages above, or a payload stored in the outbox."""

    @property
    def kind(self) -> str: ...

    def to_payload(self) -> JSONObject: ...


def message_kind(message: Sendable) -> str:
    """A short, PII-free label such as "text" or "interactive.list", fit for logs and metrics."""
    return message.kind


def needs_service_window(message: OutgoingMessage) -> bool:
    """Everything but a template needs the customer to have written within the last 24 hours."""
    return not isinstance(message, Template)


def build_send_body(
    to: str,
    message: Sendable,
    *,
    biz_opaque_callback_data: str,
    context_message_id: str | None = None,
) -> JSONObject:
    """The full JSON body of `POST /{phone_number_id}/messages`; raises InvalidOutgoingMessage.

    `biz_opaque_callback_data` is echoed in every status webhook for the message: it is how an
    unknown outcome (a timeout after sending) is reconciled, so it is required.
    """
    if not to.strip() or any(char.isspace() for char in to):
        raise InvalidOutgoingMessage("to", "must be a phone number or WhatsApp id without spaces")
    _text("biz_opaque_callback_data", biz_opaque_callback_data, limits.BIZ_OPAQUE_CALLBACK_DATA_MAX)
    if context_message_id is not None:
        _present("context_message_id", context_message_id)
    body: JSONObject = {"messaging_product": "whatsapp", "recipient_type": "individual", "to": to}
    body.update(message.to_payload())
    body["biz_opaque_callback_data"] = biz_opaque_callback_data
    if context_message_id is not None:
        body["context"] = {"message_id": context_message_id}
    return body
