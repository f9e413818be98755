"""The feedback Flow on its own: its Flow JSON, the checks on a submission, the conversation replies."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import pytest

from loket.channel.outgoing import FlowMessage, ListMessage, Text
from loket.clock import FakeClock
from loket.conversation.engine import ConversationEngine
from loket.conversation.menu import ITEMS_BY_KIND, main_menu
from loket.conversation.turn import FlowCompletion, TenantView, Turn
from loket.core.demo.institution import DemoCore
from loket.i18n.catalog import LANGUAGES, catalog
from loket.journeys import feedback
from loket.journeys.feedback_flow import (
    COMMENT_MAX_CHARS,
    SCREEN,
    TOPICS_BY_KIND,
    Refusal,
    Submission,
    all_flow_json,
    flow_json,
    flow_name,
    looks_like_card_number,
    read_submission,
    screen,
)

NOW = datetime(2026, 11, 2, 3, 0, tzinfo=UTC)
BANK = TenantView("bank-nusantara", "Bank Nusantara", "bank", "1500123")
INSURER = TenantView("asuransi-sejahtera", "Asuransi Sejahtera", "insurer", "1500456")


def components(node: Any) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    if isinstance(node, dict):
        if "type" in node and node["type"] not in ("SingleColumnLayout",):
            found.append(node)
        for child in node.get("children", []):
            found.extend(components(child))
    return found


@pytest.mark.parametrize("language", LANGUAGES)
def test_flow_json_is_one_endpoint_powered_screen_whose_footer_sends_every_field(language: str) -> None:
    document = flow_json(language)
    assert document["data_api_version"] == "3.0" and document["routing_model"] == {SCREEN: []}
    [only] = document["screens"]
    assert only["id"] == SCREEN != "SUCCESS" and only["terminal"] is True
    parts = components(only["layout"])
    fields = [c["name"] for c in parts if c["type"] in ("Dropdown", "RadioButtonsGroup", "TextArea", "OptIn")]
    [footer] = [c for c in parts if c["type"] == "Footer"]
    action = footer["on-click-action"]
    assert action["name"] == "data_exchange"
    assert action["payload"] == {name: f"${{form.{name}}}" for name in fields}
    # Every `${data.x}` the layout uses is declared in the screen's data model.
    used = set(re.findall(r"\$\{data\.(\w+)\}", str(only["layout"])))
    assert used == set(only["data"]) == {"topics"}


@pytest.mark.parametrize("language", LANGUAGES)
def test_flow_texts_fit_the_component_limits(language: str) -> None:
    """Short labels, by our reading of Meta's component reference (the sandbox does not enforce these)."""
    [only] = flow_json(language)["screens"]
    assert len(only["title"]) <= 30
    limits = {"Dropdown": 20, "TextArea": 20, "RadioButtonsGroup": 30, "OptIn": 120, "Footer": 35}
    for part in components(only["layout"]):
        if part["type"] in limits:
            assert len(part["label"]) <= limits[part["type"]], part["label"]
        if part["type"] == "TextArea":
            assert len(part["helper-text"]) <= 80 and part["max-length"] == COMMENT_MAX_CHARS
        if isinstance(part.get("data-source"), list):
            assert all(len(option["title"]) <= 30 for option in part["data-source"])
    for kind in TOPICS_BY_KIND:
        assert all(len(option["title"]) <= 30 for option in screen(language, kind).data["topics"])


def test_one_flow_per_language() -> None:
    assert set(all_flow_json()) == {"loket_feedback_id", "loket_feedback_en"}
    assert flow_name("fr") == "loket_feedback_id"


def test_every_feedback_text_exists_in_both_languages() -> None:
    mine = ("feedback.", "menu.feedback.")
    keys = [{key for key in catalog(language) if key.startswith(mine)} for language in LANGUAGES]
    assert keys[0] == keys[1] and keys[0]


@pytest.mark.parametrize(
    "text",
    ["4111111111111111", "kartu 4111 1111 1111 1111 hilang", "5500-0000-0000-0004", "no 378282246310005"],
)
def test_card_numbers_are_spotted(text: str) -> None:
    assert looks_like_card_number(text)


@pytest.mark.parametrize(
    "text",
    ["rekening 1234567890", "hubungi 0812-3456-7890", "4111111111111112", "tanggal 12 10 2026", ""],
)
def test_other_numbers_are_not_card_numbers(text: str) -> None:
    assert not looks_like_card_number(text)


def test_a_good_submission_is_read_and_trimmed() -> None:
    got = read_submission("id", "bank", {"topic": "fees", "rating": 5, "comment": "  ok  ", "contact_ok": "true"})
    assert got == Submission(topic="fees", rating=5, comment="ok", contact_ok=True)
    empty = read_submission("id", "bank", {"topic": "fees", "rating": "1"})
    assert empty == Submission(topic="fees", rating=1, comment=None, contact_ok=False)


@pytest.mark.parametrize("rating", [0, 6, "6", "4.5", "", True, None, [], "-1"])
def test_ratings_outside_one_to_five_are_refused(rating: object) -> None:
    got = read_submission("en", "bank", {"topic": "fees", "rating": rating})
    assert got == Refusal("Please choose how satisfied you are, from 1 to 5.")


def test_submission_repr_hides_the_comment() -> None:
    assert "rahasia" not in repr(Submission(topic="other", rating=3, comment="rahasia", contact_ok=False))


# ---------------------------------------------------------------- the conversation side


def turn(tenant: TenantView = BANK, *, kind: str = "text", text: str | None = None, **extra: Any) -> Turn:
    return Turn(
        tenant=tenant,
        customer=None,
        language=extra.pop("language", "id"),
        kind=kind,
        text=text,
        reply_id=extra.pop("reply_id", None),
        now=NOW,
        **extra,
    )


@pytest.fixture
def engine() -> ConversationEngine:
    return ConversationEngine(DemoCore.generate(FakeClock(NOW)))


@pytest.mark.parametrize("kind", sorted(ITEMS_BY_KIND))
def test_every_kind_of_institution_has_the_feedback_row(kind: str) -> None:
    tenant = TenantView("t", "T", kind, "1500")
    rows = [row.id for row in main_menu(tenant, "id").sections[0].rows]
    assert "menu:feedback" in rows


async def test_menu_row_sends_the_flow_and_a_session_to_store(engine: ConversationEngine) -> None:
    result = await engine.handle(turn(kind="interactive_list_reply", reply_id="menu:feedback", language="en"))
    [message] = result.replies
    assert isinstance(message, FlowMessage)
    assert message.flow_action == "data_exchange" and message.flow_name == "loket_feedback_en"
    message.validate()
    [session] = result.flow_sessions
    assert session.token == message.flow_token and session.flow == feedback.FLOW
    assert session.expires_at == NOW + feedback.TOKEN_TTL
    again = await engine.handle(turn(kind="interactive_list_reply", reply_id="menu:feedback"))
    assert again.flow_sessions[0].token != session.token


async def test_completed_flow_is_thanked_with_its_reference(engine: ConversationEngine) -> None:
    done = FlowCompletion(flow="feedback", result={"reference": "KS-ABCDEFGHJK", "contact": False})
    result = await engine.handle(turn(INSURER, kind="flow_reply", text="Sent", flow=done))
    [reply] = result.replies
    assert isinstance(reply, Text)
    assert "*KS-ABCDEFGHJK*" in reply.body and "tidak akan menghubungi" in reply.body
    assert result.flow_sessions == []


async def test_unknown_flow_reply_says_the_form_is_stale(engine: ConversationEngine) -> None:
    result = await engine.handle(turn(kind="flow_reply", text="Sent"))
    assert isinstance(result.replies[0], Text) and "sudah tidak berlaku" in result.replies[0].body
    assert isinstance(result.replies[1], ListMessage)
