"""The "Kritik & saran" WhatsApp Flow: its Flow JSON and what its data endpoint answers.

One screen: a topic (the options come from the data endpoint, per kind of institution), a rating from
1 to 5, an optional comment and consent to be contacted. The Flow exists once per language
(`loket_feedback_id`, `loket_feedback_en`) because screen titles are static; every text comes from the
message catalogs. Written by us from the Flow JSON shape in whatsapp-cloud-api.md section 5.3.

Pure domain code: it builds replies and reads submissions; storing them is the caller's business.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from loket.channel.flows_endpoint import FlowReply
from loket.i18n.catalog import LANGUAGES, normalise_language, t

SCREEN = "FEEDBACK"
FLOW_JSON_VERSION = "7.0"
DATA_API_VERSION = "3.0"
COMMENT_MAX_CHARS = 500
RATINGS = (1, 2, 3, 4, 5)
FLOW_NAME_PREFIX = "loket_feedback_"

TOPICS_BY_KIND: dict[str, tuple[str, ...]] = {
    "bank": ("service", "digital", "fees", "whatsapp", "other"),
    "insurer": ("claims", "policy", "service", "whatsapp", "other"),
    "lender": ("loan", "collection", "service", "whatsapp", "other"),
}
_DEFAULT_TOPICS = ("service", "whatsapp", "other")

# A run of 13-19 digits, optionally split by single spaces or dashes, as card numbers are written.
_DIGIT_RUN = re.compile(r"\d(?:[ -]?\d){12,}")
_CARD_DIGITS = range(13, 20)


def flow_name(language: str | None) -> str:
    return FLOW_NAME_PREFIX + normalise_language(language)


def topics(kind: str) -> tuple[str, ...]:
    return TOPICS_BY_KIND.get(kind, _DEFAULT_TOPICS)


def topic_options(language: str, kind: str) -> list[dict[str, str]]:
    return [{"id": topic, "title": t(language, f"feedback.topics.{topic}")} for topic in topics(kind)]


def flow_json(language: str) -> dict[str, Any]:
    """The Flow JSON to publish as `flow_name(language)` (and to give the sandbox to render)."""

    def text(key: str) -> str:
        return t(language, f"feedback.flow.{key}")

    form_children: list[dict[str, Any]] = [
        {
            "type": "Dropdown",
            "name": "topic",
            "label": text("topic"),
            "required": True,
            "data-source": "${data.topics}",
        },
        {
            "type": "RadioButtonsGroup",
            "name": "rating",
            "label": text("rating"),
            "required": True,
            "data-source": [{"id": str(value), "title": text(f"rating_{value}")} for value in RATINGS],
        },
        {
            "type": "TextArea",
            "name": "comment",
            "label": text("comment"),
            "required": False,
            "max-length": COMMENT_MAX_CHARS,
            "helper-text": text("comment_help"),
        },
        {"type": "OptIn", "name": "contact_ok", "label": text("contact"), "required": False},
        {
            "type": "Footer",
            "label": text("submit"),
            "on-click-action": {
                "name": "data_exchange",
                "payload": {
                    "topic": "${form.topic}",
                    "rating": "${form.rating}",
                    "comment": "${form.comment}",
                    "contact_ok": "${form.contact_ok}",
                },
            },
        },
    ]
    topic_schema = {
        "type": "array",
        "items": {"type": "object", "properties": {"id": {"type": "string"}, "title": {"type": "string"}}},
        "__example__": topic_options(language, "bank")[:2],
    }
    return {
        "version": FLOW_JSON_VERSION,
        "data_api_version": DATA_API_VERSION,
        "routing_model": {SCREEN: []},
        "screens": [
            {
                "id": SCREEN,
                "title": text("title"),
                "terminal": True,
                "success": True,
                "data": {"topics": topic_schema},
                "layout": {
                    "type": "SingleColumnLayout",
                    "children": [
                        {"type": "TextSubheading", "text": text("heading")},
                        {"type": "TextBody", "text": text("intro")},
                        {"type": "Form", "name": "feedback", "children": form_children},
                    ],
                },
            }
        ],
    }


def all_flow_json() -> dict[str, dict[str, Any]]:
    """Every language's Flow JSON by flow name, as the sandbox's `flow_json` setting wants it."""
    return {flow_name(language): flow_json(language) for language in LANGUAGES}


def screen(language: str, kind: str, error: str | None = None) -> FlowReply:
    """The form, with the topic options; `error` is shown on it when a submission was refused."""
    data: dict[str, Any] = {"topics": topic_options(language, kind)}
    if error is not None:
        data["error_message"] = error
    return FlowReply(screen=SCREEN, data=data)


@dataclass(frozen=True, slots=True)
class Submission:
    topic: str
    rating: int
    comment: str | None = field(repr=False)
    contact_ok: bool


@dataclass(frozen=True, slots=True)
class Refusal:
    message: str


def _rating(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        number = value
    elif isinstance(value, str) and value.strip().isdigit():
        number = int(value.strip())
    else:
        return None
    return number if number in RATINGS else None


def _consent(value: object) -> bool:
    return value is True or (isinstance(value, str) and value.strip().lower() == "true")


def _luhn(digits: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(digits)):
        number = int(char)
        if index % 2:
            number = number * 2 - 9 if number > 4 else number * 2
        total += number
    return total % 10 == 0


def looks_like_card_number(text: str) -> bool:
    for match in _DIGIT_RUN.finditer(text):
        digits = re.sub(r"\D", "", match.group())
        if len(digits) in _CARD_DIGITS and _luhn(digits):
            return True
    return False


def read_submission(language: str, kind: str, data: Mapping[str, object]) -> Submission | Refusal:
    """Check what the form sent; the Flow client checks too, but the endpoint never trusts it."""
    topic = data.get("topic")
    if not isinstance(topic, str) or topic not in topics(kind):
        return Refusal(t(language, "feedback.errors.topic"))
    rating = _rating(data.get("rating"))
    if rating is None:
        return Refusal(t(language, "feedback.errors.rating"))
    raw_comment = data.get("comment")
    if raw_comment is not None and not isinstance(raw_comment, str):
        return Refusal(t(language, "feedback.errors.comment"))
    comment = (raw_comment or "").strip()
    if len(comment) > COMMENT_MAX_CHARS:
        return Refusal(t(language, "feedback.errors.comment_too_long", max=COMMENT_MAX_CHARS, length=len(comment)))
    if looks_like_card_number(comment):
        return Refusal(t(language, "feedback.errors.card_number"))
    return Submission(topic=topic, rating=rating, comment=comment or None, contact_ok=_consent(data.get("contact_ok")))
