from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from loket.channel import limits
from loket.channel.errors import InvalidOutgoingMessage
from loket.channel.outgoing import (
    CtaUrl,
    CurrencyParam,
    DateTimeParam,
    Document,
    DocumentParam,
    FlowButtonParam,
    FlowMessage,
    Image,
    ImageParam,
    ListMessage,
    ListRow,
    ListSection,
    MediaHeader,
    OutgoingMessage,
    QuickReplyButtonParam,
    Reaction,
    ReplyButton,
    ReplyButtons,
    Template,
    Text,
    TextParam,
    UrlButtonParam,
    build_send_body,
    message_kind,
    needs_service_window,
)

# Visible characters only: a title of spaces is "empty", which is a different rule.
visible = st.characters(min_codepoint=0x21, max_codepoint=0x7E)


def dig(value: object, *keys: str | int) -> Any:
    for key in keys:
        value = value[key]  # type: ignore[index]
    return value


def invalid(message: OutgoingMessage) -> InvalidOutgoingMessage:
    with pytest.raises(InvalidOutgoingMessage) as caught:
        message.to_payload()
    return caught.value


def buttons(*titles: str) -> tuple[ReplyButton, ...]:
    return tuple(ReplyButton(id=f"b{index}", title=title) for index, title in enumerate(titles))


def rows(count: int, prefix: str = "r") -> tuple[ListRow, ...]:
    return tuple(ListRow(id=f"{prefix}{index}", title=f"Row {index}") for index in range(count))


# --- text -----------------------------------------------------------------------------------------


def test_text_payload() -> None:
    assert Text("Halo, ada yang bisa kami bantu?", preview_url=True).to_payload() == {
        "type": "text",
        "text": {"body": "Halo, ada yang bisa kami bantu?", "preview_url": True},
    }


def test_text_body_limits() -> None:
    Text("x" * limits.TEXT_BODY_MAX).validate()
    error = invalid(Text("x" * (limits.TEXT_BODY_MAX + 1)))
    assert error.field_path == "body"
    assert "4097" in error.reason
    assert invalid(Text("")).field_path == "body"
    assert invalid(Text("  \n ")).reason == "must not be empty"


def test_error_never_quotes_the_value() -> None:
    secret = "Saldo Anda Rp 12.345.678 " * 200
    error = invalid(Text(secret))
    assert "Saldo" not in str(error)


@given(st.text(visible, min_size=1, max_size=limits.TEXT_BODY_MAX))
def test_any_text_within_limit_passes(body: str) -> None:
    assert Text(body).to_payload()["text"] == {"body": body, "preview_url": False}


# --- reply buttons --------------------------------------------------------------------------------


def test_reply_buttons_payload_with_text_header_and_footer() -> None:
    message = ReplyButtons(
        body="Blokir kartu debit Anda?",
        buttons=(ReplyButton("block_yes", "Ya, blokir"), ReplyButton("block_no", "Tidak")),
        header="Kartu debit",
        footer="Bank Contoh",
    )
    assert message.to_payload() == {
        "type": "interactive",
        "interactive": {
            "type": "button",
            "header": {"type": "text", "text": "Kartu debit"},
            "body": {"text": "Blokir kartu debit Anda?"},
            "footer": {"text": "Bank Contoh"},
            "action": {
                "buttons": [
                    {"type": "reply", "reply": {"id": "block_yes", "title": "Ya, blokir"}},
                    {"type": "reply", "reply": {"id": "block_no", "title": "Tidak"}},
                ]
            },
        },
    }


def test_reply_buttons_document_header() -> None:
    message = ReplyButtons(
        body="Ini e-statement Anda.",
        buttons=buttons("OK"),
        header=MediaHeader("document", "media-1", filename="estatement.pdf"),
    )
    assert dig(message.to_payload(), "interactive", "header") == {
        "type": "document",
        "document": {"id": "media-1", "filename": "estatement.pdf"},
    }
    assert "header" not in dig(ReplyButtons(body="b", buttons=buttons("OK")).to_payload(), "interactive")


def test_media_header_rules() -> None:
    bad = ReplyButtons(body="b", buttons=buttons("OK"), header=MediaHeader("image", "m1", filename="x.jpg"))
    assert invalid(bad).field_path == "header.filename"
    assert invalid(ReplyButtons(body="b", buttons=buttons("OK"), header=MediaHeader("image", ""))).field_path == (
        "header.media_id"
    )


def test_reply_buttons_count() -> None:
    assert invalid(ReplyButtons(body="b", buttons=buttons("a", "b", "c", "d"))).field_path == "buttons"
    assert invalid(ReplyButtons(body="b", buttons=())).field_path == "buttons"
    ReplyButtons(body="b", buttons=buttons("a", "b", "c")).validate()


def test_reply_button_title_too_long() -> None:
    error = invalid(ReplyButtons(body="b", buttons=buttons("ok", "x" * 21)))
    assert error.field_path == "buttons[1].title"
    assert error.reason == "has 21 characters; the limit is 20"


def test_reply_button_duplicates() -> None:
    error = invalid(ReplyButtons(body="b", buttons=buttons("Ya", "Tidak", "ya ")))
    assert (error.field_path, error.reason) == ("buttons[2].title", "duplicates buttons[0].title")
    same_id = (ReplyButton("x", "Satu"), ReplyButton("x", "Dua"))
    assert invalid(ReplyButtons(body="b", buttons=same_id)).field_path == "buttons[1].id"


def test_reply_buttons_frame_limits() -> None:
    assert invalid(ReplyButtons(body="x" * 1025, buttons=buttons("a"))).field_path == "body"
    assert invalid(ReplyButtons(body="b", buttons=buttons("a"), header="h" * 61)).field_path == "header"
    assert invalid(ReplyButtons(body="b", buttons=buttons("a"), footer="f" * 61)).field_path == "footer"
    long_id = (ReplyButton("i" * 257, "a"),)
    assert invalid(ReplyButtons(body="b", buttons=long_id)).field_path == "buttons[0].id"


@given(st.text(visible, min_size=1, max_size=limits.BUTTON_TITLE_MAX))
def test_any_title_up_to_20_passes(title: str) -> None:
    ReplyButtons(body="b", buttons=buttons(title)).validate()


@given(st.text(visible, min_size=limits.BUTTON_TITLE_MAX + 1, max_size=60))
def test_any_title_over_20_fails(title: str) -> None:
    assert invalid(ReplyButtons(body="b", buttons=buttons(title))).field_path == "buttons[0].title"


# --- lists ----------------------------------------------------------------------------------------


def test_list_payload() -> None:
    message = ListMessage(
        body="Pilih rekening",
        button="Lihat rekening",
        sections=(
            ListSection(
                "Tabungan",
                (ListRow("acc_1", "Tabungan Utama", "•••• 1234"), ListRow("acc_2", "Tabungan Rencana")),
            ),
            ListSection("Giro", (ListRow("acc_3", "Giro Bisnis"),)),
        ),
        footer="Ketik 0 untuk kembali",
    )
    assert message.to_payload() == {
        "type": "interactive",
        "interactive": {
            "type": "list",
            "body": {"text": "Pilih rekening"},
            "footer": {"text": "Ketik 0 untuk kembali"},
            "action": {
                "button": "Lihat rekening",
                "sections": [
                    {
                        "title": "Tabungan",
                        "rows": [
                            {"id": "acc_1", "title": "Tabungan Utama", "description": "•••• 1234"},
                            {"id": "acc_2", "title": "Tabungan Rencana"},
                        ],
                    },
                    {"title": "Giro", "rows": [{"id": "acc_3", "title": "Giro Bisnis"}]},
                ],
            },
        },
    }


def test_single_section_may_omit_title() -> None:
    payload = ListMessage(body="b", button="Menu", sections=(ListSection(None, rows(2)),)).to_payload()
    assert dig(payload, "interactive", "action", "sections") == [
        {"rows": [{"id": "r0", "title": "Row 0"}, {"id": "r1", "title": "Row 1"}]}
    ]


def test_list_eleven_rows_in_total() -> None:
    message = ListMessage(
        body="b", button="Menu", sections=(ListSection("A", rows(6, "a")), ListSection("B", rows(5, "b")))
    )
    error = invalid(message)
    assert (error.field_path, error.reason) == ("sections", "has 11 rows in total; at most 10 allowed")


def test_list_rules() -> None:
    def make(*sections: ListSection, button: str = "Menu") -> ListMessage:
        return ListMessage(body="b", button=button, sections=sections)

    assert invalid(make(ListSection("A", rows(1)), button="x" * 21)).field_path == "button"
    assert invalid(make()).field_path == "sections"
    eleven = tuple(ListSection(f"S{index}", (ListRow(f"r{index}", "t"),)) for index in range(11))
    assert invalid(make(*eleven)).field_path == "sections"
    untitled = make(ListSection("A", rows(1, "a")), ListSection(None, rows(1, "b")))
    assert invalid(untitled).field_path == "sections[1].title"
    assert invalid(make(ListSection("t" * 25, rows(1)))).field_path == "sections[0].title"
    assert invalid(make(ListSection("A", ()))).field_path == "sections[0].rows"
    long_title = make(ListSection("A", (ListRow("r", "t" * 25),)))
    assert invalid(long_title).field_path == "sections[0].rows[0].title"
    long_description = make(ListSection("A", (ListRow("r", "t", "d" * 73),)))
    assert invalid(long_description).field_path == "sections[0].rows[0].description"
    long_id = make(ListSection("A", (ListRow("i" * 201, "t"),)))
    assert invalid(long_id).field_path == "sections[0].rows[0].id"
    duplicate = make(ListSection("A", rows(2)), ListSection("B", rows(1)))
    assert invalid(duplicate).field_path == "rows[2].id"


@given(st.lists(st.integers(min_value=1, max_value=10), min_size=1, max_size=10))
def test_row_total_decides(section_sizes: list[int]) -> None:
    sections = tuple(
        ListSection(f"S{s}", tuple(ListRow(f"{s}-{r}", "t") for r in range(size)))
        for s, size in enumerate(section_sizes)
    )
    message = ListMessage(body="b", button="Menu", sections=sections)
    if sum(section_sizes) <= limits.LIST_ROWS_TOTAL_MAX:
        message.validate()
    else:
        assert invalid(message).field_path == "sections"


# --- CTA URL --------------------------------------------------------------------------------------


def test_cta_url_payload() -> None:
    message = CtaUrl(
        body="Lacak pengajuan Anda",
        display_text="Buka",
        url="https://bank.example/track?id=1",
        header=MediaHeader("image", "img-1"),
    )
    assert message.to_payload() == {
        "type": "interactive",
        "interactive": {
            "type": "cta_url",
            "header": {"type": "image", "image": {"id": "img-1"}},
            "body": {"text": "Lacak pengajuan Anda"},
            "action": {
                "name": "cta_url",
                "parameters": {"display_text": "Buka", "url": "https://bank.example/track?id=1"},
            },
        },
    }


def test_cta_url_rules() -> None:
    assert invalid(CtaUrl(body="b", display_text="d" * 21, url="https://a.example")).field_path == ("display_text")
    assert invalid(CtaUrl(body="b", display_text="d", url="javascript:alert(1)")).field_path == "url"
    assert invalid(CtaUrl(body="b", display_text="d", url="bank.example/x")).field_path == "url"
    too_long = "https://a.example/" + "p" * limits.CTA_URL_MAX
    assert invalid(CtaUrl(body="b", display_text="d", url=too_long)).field_path == "url"


# --- flows ----------------------------------------------------------------------------------------


def test_flow_navigate_by_id_in_draft() -> None:
    message = FlowMessage(
        body="Ajukan kartu kredit",
        flow_token="ft-123",
        flow_cta="Mulai",
        flow_id="1234567890",
        screen="APPLY",
        data={"product": "gold", "limit": 5},
        draft=True,
        header="Kartu kredit",
        footer="Butuh 2 menit",
    )
    assert message.to_payload() == {
        "type": "interactive",
        "interactive": {
            "type": "flow",
            "header": {"type": "text", "text": "Kartu kredit"},
            "body": {"text": "Ajukan kartu kredit"},
            "footer": {"text": "Butuh 2 menit"},
            "action": {
                "name": "flow",
                "parameters": {
                    "flow_message_version": "3",
                    "flow_token": "ft-123",
                    "flow_id": "1234567890",
                    "flow_cta": "Mulai",
                    "flow_action": "navigate",
                    "flow_action_payload": {"screen": "APPLY", "data": {"product": "gold", "limit": 5}},
                    "mode": "draft",
                },
            },
        },
    }


def test_flow_data_exchange_by_name() -> None:
    message = FlowMessage(
        body="b", flow_token="ft", flow_cta="Buka", flow_name="loan_application", flow_action="data_exchange"
    )
    assert dig(message.to_payload(), "interactive", "action") == {
        "name": "flow",
        "parameters": {
            "flow_message_version": "3",
            "flow_token": "ft",
            "flow_name": "loan_application",
            "flow_cta": "Buka",
            "flow_action": "data_exchange",
        },
    }


def flow(**changes: Any) -> FlowMessage:
    return replace(FlowMessage(body="b", flow_token="ft", flow_cta="Buka", flow_id="1", screen="S"), **changes)


def test_flow_rules() -> None:
    FlowMessage(body="b", flow_token="ft", flow_cta="Buka", flow_id="1", screen="S").validate()
    assert invalid(flow(flow_id=None)).field_path == "flow_id"
    assert invalid(flow(flow_name="n")).field_path == "flow_id"
    assert invalid(flow(screen=None)).field_path == "screen"
    assert invalid(flow(flow_action="data_exchange")).field_path == "screen"
    assert invalid(flow(data={})).field_path == "data"
    assert invalid(flow(flow_token=" ")).field_path == "flow_token"
    assert invalid(flow(flow_cta="c" * 21)).field_path == "flow_cta"
    assert invalid(flow(flow_cta="Mulai 🚀")).reason == "must not contain emoji"


# --- templates ------------------------------------------------------------------------------------


def test_template_full_payload() -> None:
    message = Template(
        name="tagihan_jatuh_tempo",
        language="id",
        header=DocumentParam("doc-9", filename="tagihan.pdf"),
        body=(
            TextParam("Budi"),
            CurrencyParam("Rp1.250.000", "IDR", 1_250_000_000),
            DateTimeParam("25 November 2026"),
        ),
        buttons=(
            QuickReplyButtonParam(0, "pay_now"),
            UrlButtonParam(1, "inv-77"),
            FlowButtonParam(2, "ft-9", {"invoice": "inv-77"}),
        ),
    )
    assert message.to_payload() == {
        "type": "template",
        "template": {
            "name": "tagihan_jatuh_tempo",
            "language": {"code": "id"},
            "components": [
                {
                    "type": "header",
                    "parameters": [{"type": "document", "document": {"id": "doc-9", "filename": "tagihan.pdf"}}],
                },
                {
                    "type": "body",
                    "parameters": [
                        {"type": "text", "text": "Budi"},
                        {
                            "type": "currency",
                            "currency": {"fallback_value": "Rp1.250.000", "code": "IDR", "amount_1000": 1250000000},
                        },
                        {"type": "date_time", "date_time": {"fallback_value": "25 November 2026"}},
                    ],
                },
                {
                    "type": "button",
                    "sub_type": "quick_reply",
                    "index": "0",
                    "parameters": [{"type": "payload", "payload": "pay_now"}],
                },
                {"type": "button", "sub_type": "url", "index": "1", "parameters": [{"type": "text", "text": "inv-77"}]},
                {
                    "type": "button",
                    "sub_type": "flow",
                    "index": "2",
                    "parameters": [
                        {"type": "action", "action": {"flow_token": "ft-9", "flow_action_data": {"invoice": "inv-77"}}}
                    ],
                },
            ],
        },
    }


def test_template_without_parameters_has_no_components() -> None:
    assert Template("hello_world", "en_US").to_payload() == {
        "type": "template",
        "template": {"name": "hello_world", "language": {"code": "en_US"}},
    }


def test_template_image_and_text_header() -> None:
    image = Template("promo", "id", header=ImageParam("img-2")).to_payload()
    assert dig(image, "template", "components") == [
        {"type": "header", "parameters": [{"type": "image", "image": {"id": "img-2"}}]}
    ]
    assert invalid(Template("promo", "id", header=TextParam("h" * 61))).field_path == "header.text"


def test_template_rules() -> None:
    assert invalid(Template("Tagihan Baru", "id")).field_path == "name"
    assert invalid(Template("t" * 513, "id")).field_path == "name"
    assert invalid(Template("tagihan", "Indonesian")).field_path == "language"
    assert invalid(Template("tagihan", "id", body=(TextParam("baris\nbaru"),))).field_path == "body[0]"
    assert invalid(Template("tagihan", "id", body=(TextParam("a     b"),))).field_path == "body[0]"
    assert invalid(Template("tagihan", "id", body=(TextParam(""),))).field_path == "body[0]"
    rupiah = CurrencyParam("Rp1", "rupiah", 1000)
    assert invalid(Template("tagihan", "id", body=(rupiah,))).field_path == "body[0].code"
    same_index = (QuickReplyButtonParam(0, "a"), QuickReplyButtonParam(0, "b"))
    assert invalid(Template("tagihan", "id", buttons=same_index)).field_path == "buttons[1].index"
    three_urls = tuple(UrlButtonParam(index, "x") for index in range(3))
    assert invalid(Template("tagihan", "id", buttons=three_urls)).reason == "has 3 url buttons; at most 2 allowed"
    assert invalid(Template("tagihan", "id", buttons=(UrlButtonParam(10, "x"),))).field_path == "buttons[0].index"
    empty_flow = Template("tagihan", "id", buttons=(FlowButtonParam(0, "ft", {}),))
    assert invalid(empty_flow).field_path == "buttons[0].flow_action_data"


# --- media and reactions --------------------------------------------------------------------------


def test_document_image_reaction_payloads() -> None:
    assert Document("doc-1", "mutasi.pdf", caption="Mutasi Oktober").to_payload() == {
        "type": "document",
        "document": {"id": "doc-1", "filename": "mutasi.pdf", "caption": "Mutasi Oktober"},
    }
    assert Image("img-1").to_payload() == {"type": "image", "image": {"id": "img-1"}}
    assert Reaction("wamid.ABC", "👍").to_payload() == {
        "type": "reaction",
        "reaction": {"message_id": "wamid.ABC", "emoji": "👍"},
    }
    assert Reaction("wamid.ABC", "").to_payload()["reaction"] == {"message_id": "wamid.ABC", "emoji": ""}


def test_media_rules() -> None:
    assert invalid(Document("doc-1", "a.pdf", caption="c" * 1025)).field_path == "caption"
    assert invalid(Document("", "a.pdf")).field_path == "media_id"
    assert invalid(Document("doc-1", "")).field_path == "filename"
    assert invalid(Image("img", caption="c" * 1025)).field_path == "caption"
    assert invalid(Reaction("", "👍")).field_path == "message_id"


# --- envelope -------------------------------------------------------------------------------------


def test_build_send_body_with_context() -> None:
    body = build_send_body(
        "6281234567890",
        Text("Baik, kami proses."),
        biz_opaque_callback_data="outbox:42",
        context_message_id="wamid.IN1",
    )
    assert body == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": "6281234567890",
        "type": "text",
        "text": {"body": "Baik, kami proses.", "preview_url": False},
        "biz_opaque_callback_data": "outbox:42",
        "context": {"message_id": "wamid.IN1"},
    }
    assert list(body) == [
        "messaging_product",
        "recipient_type",
        "to",
        "type",
        "text",
        "biz_opaque_callback_data",
        "context",
    ]


def test_build_send_body_rules() -> None:
    text = Text("hi")
    with pytest.raises(InvalidOutgoingMessage) as caught:
        build_send_body("62812", text, biz_opaque_callback_data="x" * 513)
    assert caught.value.field_path == "biz_opaque_callback_data"
    build_send_body("62812", text, biz_opaque_callback_data="x" * 512)
    with pytest.raises(InvalidOutgoingMessage) as caught:
        build_send_body("62812", text, biz_opaque_callback_data="")
    assert caught.value.field_path == "biz_opaque_callback_data"
    with pytest.raises(InvalidOutgoingMessage) as caught:
        build_send_body("+62 812", text, biz_opaque_callback_data="t")
    assert caught.value.field_path == "to"
    with pytest.raises(InvalidOutgoingMessage) as caught:
        build_send_body("62812", Text(""), biz_opaque_callback_data="t")
    assert caught.value.field_path == "body"


@given(st.text(visible, min_size=1, max_size=700))
def test_callback_data_limit(tracker: str) -> None:
    if len(tracker) <= limits.BIZ_OPAQUE_CALLBACK_DATA_MAX:
        assert build_send_body("62812", Text("hi"), biz_opaque_callback_data=tracker)["biz_opaque_callback_data"] == (
            tracker
        )
    else:
        with pytest.raises(InvalidOutgoingMessage):
            build_send_body("62812", Text("hi"), biz_opaque_callback_data=tracker)


def test_message_kind_and_window() -> None:
    assert message_kind(Text("hi")) == "text"
    assert message_kind(ReplyButtons(body="b", buttons=buttons("a"))) == "interactive.button"
    assert message_kind(Template("hello_world", "en_US")) == "template"
    assert message_kind(Reaction("wamid.A", "👍")) == "reaction"
    assert needs_service_window(Text("hi"))
    assert not needs_service_window(Template("hello_world", "en_US"))


def test_messages_are_frozen() -> None:
    message = Text("hi")
    with pytest.raises(AttributeError):
        message.body = "changed"  # type: ignore[misc]
