"""Every webhook fixture parses into the records we expect (fixtures: tests/fixtures/webhooks)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any
from unittest.mock import ANY

import orjson
import pytest

from loket.channel.inbound import (
    ChangeError,
    FlowResponse,
    InboundMessage,
    Location,
    MarketingPreferenceUpdate,
    Media,
    MessageContext,
    MessageKind,
    Order,
    OrderItem,
    ParsedEnvelope,
    Pricing,
    Reaction,
    Referral,
    SharedContact,
    SharedPhone,
    StatusUpdate,
    SystemEvent,
    TemplateStatusUpdate,
    Unrecognised,
    WebhookError,
    parse_envelope,
)

FIXTURES = Path(__file__).parent.parent / "fixtures" / "webhooks"

BANK_WABA, BANK_PNID, BANK_DISPLAY = "209876543210001", "109876543210001", "6221500888"
INSURER_WABA, INSURER_PNID, INSURER_DISPLAY = "209876543210002", "109876543210002", "6221500999"
SITI, BUDI, DEWI, AGUS = "6281234567890", "6285712345678", "6281398765432", "6287811223344"
SITI_BSUID = "ID.1408725933017712"
HREF = "https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/"


def load_fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def parse_fixture(name: str) -> ParsedEnvelope:
    return parse_envelope(load_fixture(name))


def bank_message(**fields: Any) -> InboundMessage:
    base: dict[str, Any] = {
        "phone_number_id": BANK_PNID,
        "display_phone_number": BANK_DISPLAY,
        "waba_id": BANK_WABA,
        "user_id": None,
        "raw": ANY,
    }
    return InboundMessage(**(base | fields))


def insurer_message(**fields: Any) -> InboundMessage:
    return bank_message(
        phone_number_id=INSURER_PNID, display_phone_number=INSURER_DISPLAY, waba_id=INSURER_WABA, **fields
    )


def bank_reply_context(message_id: str) -> MessageContext:
    return MessageContext(message_id=message_id, from_wa_id=BANK_DISPLAY)


SINGLE_MESSAGE_FIXTURES: dict[str, InboundMessage] = {
    "text.json": bank_message(
        wamid="wamid.LKT.in.text.0001",
        wa_id=SITI,
        user_id=SITI_BSUID,
        profile_name="Siti Rahayu",
        timestamp=1793588400,
        kind=MessageKind.TEXT,
        type="text",
        text="Halo, saya mau cek saldo tabungan.",
    ),
    "text_reply_forwarded.json": bank_message(
        wamid="wamid.LKT.in.text.0002",
        wa_id=BUDI,
        profile_name="Budi Santoso",
        timestamp=1793588460,
        kind=MessageKind.TEXT,
        type="text",
        text="Apakah pesan ini benar dari Bank Nusantara?",
        context=MessageContext(
            message_id="wamid.LKT.out.promo.0042",
            from_wa_id=BANK_DISPLAY,
            forwarded=True,
            frequently_forwarded=True,
        ),
    ),
    "text_referral.json": bank_message(
        wamid="wamid.LKT.in.text.0003",
        wa_id=DEWI,
        profile_name="Dewi Lestari",
        timestamp=1793588520,
        kind=MessageKind.TEXT,
        type="text",
        text="Saya tertarik dengan Tabungan Emas.",
        referral=Referral(
            source_url="https://fb.me/bank-nusantara-tabungan-emas",
            source_id="120200000000000777",
            source_type="ad",
            headline="Tabungan Emas Nusantara",
            body="Buka rekening dari WhatsApp dalam 5 menit.",
            media_type="image",
            image_url="https://example.invalid/iklan/tabungan-emas.jpg",
            ctwa_clid="ARAkLoketDemoClickId0001",
        ),
    ),
    "image_caption.json": bank_message(
        wamid="wamid.LKT.in.image.0001",
        wa_id=SITI,
        profile_name="Siti Rahayu",
        timestamp=1793588580,
        kind=MessageKind.IMAGE,
        type="image",
        text="Bukti transfer yang gagal",
        media=Media(
            id="880011223344001",
            mime_type="image/jpeg",
            sha256="b2t0b2JlcmJ1a3RpdHJhbnNmZXJzaXRpcmFoYXl1MDE=",
            caption="Bukti transfer yang gagal",
            url="https://lookaside.fbsbx.com/whatsapp_business/attachments/?mid=880011223344001&source=webhook",
        ),
    ),
    "video.json": insurer_message(
        wamid="wamid.LKT.in.video.0001",
        wa_id=AGUS,
        profile_name="Agus Wibowo",
        timestamp=1793588640,
        kind=MessageKind.VIDEO,
        type="video",
        media=Media(
            id="880011223344002",
            mime_type="video/mp4",
            sha256="dmlkZW9rZXJ1c2FrYW5tb2JpbGFndXN3aWJvd28wMQ==",
        ),
    ),
    "audio_voice.json": bank_message(
        wamid="wamid.LKT.in.audio.0001",
        wa_id=BUDI,
        profile_name="Budi Santoso",
        timestamp=1793588700,
        kind=MessageKind.AUDIO,
        type="audio",
        media=Media(
            id="880011223344003",
            mime_type="audio/ogg; codecs=opus",
            sha256="cGVzYW5zdWFyYWJ1ZGlzYW50b3NvMDE=",
            voice=True,
        ),
    ),
    "document.json": insurer_message(
        wamid="wamid.LKT.in.document.0001",
        wa_id=DEWI,
        profile_name="Dewi Lestari",
        timestamp=1793588760,
        kind=MessageKind.DOCUMENT,
        type="document",
        text="Kuitansi rumah sakit untuk klaim",
        media=Media(
            id="880011223344004",
            mime_type="application/pdf",
            sha256="a3VpdGFuc2lyc2Rld2lsZXN0YXJpMDE=",
            filename="kuitansi-rs-sehat-sentosa.pdf",
            caption="Kuitansi rumah sakit untuk klaim",
        ),
    ),
    "sticker.json": bank_message(
        wamid="wamid.LKT.in.sticker.0001",
        wa_id=SITI,
        profile_name="Siti Rahayu",
        timestamp=1793588820,
        kind=MessageKind.STICKER,
        type="sticker",
        media=Media(id="880011223344005", mime_type="image/webp", sha256="c3Rpa2VydGVyaW1ha2FzaWgwMQ==", animated=True),
    ),
    "location.json": bank_message(
        wamid="wamid.LKT.in.location.0001",
        wa_id=BUDI,
        profile_name="Budi Santoso",
        timestamp=1793588880,
        kind=MessageKind.LOCATION,
        type="location",
        location=Location(
            latitude=-6.2087634,
            longitude=106.845599,
            name="Kantor Cabang Thamrin",
            address="Jl. M.H. Thamrin No. 1, Jakarta Pusat",
            url="https://example.invalid/cabang/thamrin",
        ),
    ),
    "contacts.json": insurer_message(
        wamid="wamid.LKT.in.contacts.0001",
        wa_id=AGUS,
        profile_name="Agus Wibowo",
        timestamp=1793588940,
        kind=MessageKind.CONTACTS,
        type="contacts",
        contacts=(
            SharedContact(
                formatted_name="Rina Kusuma",
                first_name="Rina",
                last_name="Kusuma",
                phones=(
                    SharedPhone(phone="+62 812-9876-5432", wa_id="6281298765432", type="CELL"),
                    SharedPhone(phone="+62 21 555 0123", type="WORK"),
                ),
                emails=("rina.kusuma@example.invalid",),
                raw=ANY,
            ),
        ),
    ),
    "reaction_add.json": bank_message(
        wamid="wamid.LKT.in.reaction.0001",
        wa_id=SITI,
        profile_name="Siti Rahayu",
        timestamp=1793589000,
        kind=MessageKind.REACTION,
        type="reaction",
        text="👍",
        reaction=Reaction(message_id="wamid.LKT.out.saldo.0007", emoji="👍"),
    ),
    "reaction_remove.json": bank_message(
        wamid="wamid.LKT.in.reaction.0002",
        wa_id=SITI,
        profile_name="Siti Rahayu",
        timestamp=1793589060,
        kind=MessageKind.REACTION,
        type="reaction",
        reaction=Reaction(message_id="wamid.LKT.out.saldo.0007", emoji=None),
    ),
    "button_reply.json": bank_message(
        wamid="wamid.LKT.in.button.0001",
        wa_id=BUDI,
        profile_name="Budi Santoso",
        timestamp=1793589120,
        kind=MessageKind.INTERACTIVE_BUTTON_REPLY,
        type="interactive",
        text="Blokir kartu",
        reply_id="blokir_kartu",
        context=bank_reply_context("wamid.LKT.out.menu.0010"),
    ),
    "list_reply.json": bank_message(
        wamid="wamid.LKT.in.list.0001",
        wa_id=DEWI,
        profile_name="Dewi Lestari",
        timestamp=1793589180,
        kind=MessageKind.INTERACTIVE_LIST_REPLY,
        type="interactive",
        text="Mutasi 30 hari",
        reply_id="mutasi_30_hari",
        context=bank_reply_context("wamid.LKT.out.menu.0011"),
    ),
    "nfm_reply.json": insurer_message(
        wamid="wamid.LKT.in.flow.0001",
        wa_id=AGUS,
        profile_name="Agus Wibowo",
        timestamp=1793589240,
        kind=MessageKind.FLOW_REPLY,
        type="interactive",
        text="Sent",
        context=MessageContext(message_id="wamid.LKT.out.flow.0020", from_wa_id=INSURER_DISPLAY),
        flow_response=FlowResponse(
            name="flow",
            body="Sent",
            data={
                "flow_token": "klaim-7f3a9c",
                "jenis_klaim": "rawat_inap",
                "tanggal_kejadian": "2026-10-28",
                "nominal": 4500000,
            },
            flow_token="klaim-7f3a9c",
            response_json=ANY,
        ),
    ),
    "nfm_reply_without_flow_token.json": insurer_message(
        wamid="wamid.LKT.in.flow.0002",
        wa_id=DEWI,
        profile_name="Dewi Lestari",
        timestamp=1793589300,
        kind=MessageKind.FLOW_REPLY,
        type="interactive",
        text="Sent",
        context=MessageContext(message_id="wamid.LKT.out.flow.0021", from_wa_id=INSURER_DISPLAY),
        flow_response=FlowResponse(
            name="flow",
            body="Sent",
            data={"jenis_klaim": "rawat_jalan", "nominal": 750000},
            flow_token=None,
            response_json='{"jenis_klaim":"rawat_jalan","nominal":750000}',
        ),
    ),
    "template_button.json": bank_message(
        wamid="wamid.LKT.in.tplbutton.0001",
        wa_id=SITI,
        profile_name="Siti Rahayu",
        timestamp=1793589360,
        kind=MessageKind.TEMPLATE_BUTTON,
        type="button",
        text="Bayar sekarang",
        reply_id="tagihan_kartu:bayar",
        context=bank_reply_context("wamid.LKT.out.tagihan.0030"),
    ),
    "order.json": insurer_message(
        wamid="wamid.LKT.in.order.0001",
        wa_id=BUDI,
        profile_name="Budi Santoso",
        timestamp=1793589420,
        kind=MessageKind.ORDER,
        type="order",
        text="Saya mau ambil dua polis ini",
        order=Order(
            catalog_id="310000000000042",
            text="Saya mau ambil dua polis ini",
            items=(
                OrderItem(
                    product_retailer_id="polis-perjalanan-asia",
                    quantity=2,
                    item_price=Decimal("85000"),
                    currency="IDR",
                ),
                OrderItem(
                    product_retailer_id="polis-gadget-basic",
                    quantity=1,
                    item_price=Decimal("49999.5"),
                    currency="IDR",
                ),
            ),
        ),
    ),
    "system_user_changed_number.json": bank_message(
        wamid="wamid.LKT.in.system.0001",
        wa_id=SITI,
        profile_name=None,
        timestamp=1793589480,
        kind=MessageKind.SYSTEM,
        type="system",
        text="Siti Rahayu mengganti nomor dari 6281234567890 ke 6281255501234",
        system=SystemEvent(
            type="user_changed_number",
            body="Siti Rahayu mengganti nomor dari 6281234567890 ke 6281255501234",
            new_wa_id="6281255501234",
        ),
    ),
    "system_customer_identity_changed.json": bank_message(
        wamid="wamid.LKT.in.system.0002",
        wa_id=BUDI,
        profile_name="Budi Santoso",
        timestamp=1793589540,
        kind=MessageKind.SYSTEM,
        type="system",
        text="Kode keamanan Budi Santoso berubah",
        system=SystemEvent(
            type="customer_identity_changed",
            body="Kode keamanan Budi Santoso berubah",
            identity_acknowledged=False,
            identity_created_timestamp=1793589530,
            identity_hash="aWRlbnRpdGFzYnVkaXNhbnRvc28wMg==",
        ),
    ),
    "unsupported.json": bank_message(
        wamid="wamid.LKT.in.unsupported.0001",
        wa_id=DEWI,
        profile_name="Dewi Lestari",
        timestamp=1793589600,
        kind=MessageKind.UNSUPPORTED,
        type="unsupported",
        errors=(
            WebhookError(
                code=131051,
                title="Message type unknown",
                message="Message type unknown",
                details="Message type is currently not supported.",
            ),
        ),
    ),
    "contacts_without_user_id.json": insurer_message(
        wamid="wamid.LKT.in.text.0004",
        wa_id=AGUS,
        profile_name="Agus Wibowo",
        timestamp=1793589660,
        kind=MessageKind.TEXT,
        type="text",
        text="Status klaim saya bagaimana?",
    ),
}


@pytest.mark.parametrize("name", sorted(SINGLE_MESSAGE_FIXTURES))
def test_single_message_fixture(name: str) -> None:
    env = parse_fixture(name)

    assert env.is_whatsapp
    assert env.messages == [SINGLE_MESSAGE_FIXTURES[name]]
    assert not (env.statuses or env.template_updates or env.preference_updates or env.errors)
    assert env.unrecognised == []


@pytest.mark.parametrize("name", sorted(SINGLE_MESSAGE_FIXTURES))
def test_message_raw_is_the_wire_message(name: str) -> None:
    doc = orjson.loads(load_fixture(name))

    (message,) = parse_envelope(doc).messages

    assert message.raw is doc["entry"][0]["changes"][0]["value"]["messages"][0]


def test_flow_response_keeps_the_response_json_string() -> None:
    doc = orjson.loads(load_fixture("nfm_reply.json"))
    wire = doc["entry"][0]["changes"][0]["value"]["messages"][0]["interactive"]["nfm_reply"]["response_json"]

    (message,) = parse_envelope(doc).messages

    assert message.flow_response is not None
    assert message.flow_response.response_json == wire
    assert not message.flow_response.malformed


def test_shared_contact_keeps_the_whole_card() -> None:
    (message,) = parse_fixture("contacts.json").messages

    assert message.contacts[0].raw["org"] == {"company": "PT Sinar Jaya", "title": "Staf Keuangan"}


def pmp(category: str = "utility", type_: str = "regular", *, billable: bool = True) -> Pricing:
    return Pricing(billable=billable, pricing_model="PMP", category=category, type=type_)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        (
            "status_sent.json",
            StatusUpdate(
                wamid="wamid.LKT.out.tagihan.0031",
                status="sent",
                timestamp=1793590000,
                recipient_id=SITI,
                phone_number_id=BANK_PNID,
                waba_id=BANK_WABA,
                biz_opaque_callback_data="tagihan:INV-2026-10-0042",
                conversation_id="c0ffee0000000000000000000000a001",
                pricing=pmp(),
                raw=ANY,
            ),
        ),
        (
            "status_delivered.json",
            StatusUpdate(
                wamid="wamid.LKT.out.tagihan.0031",
                status="delivered",
                timestamp=1793590003,
                recipient_id=SITI,
                phone_number_id=BANK_PNID,
                waba_id=BANK_WABA,
                conversation_id="c0ffee0000000000000000000000a001",
                pricing=pmp(),
                raw=ANY,
            ),
        ),
        (
            "status_read.json",
            StatusUpdate(
                wamid="wamid.LKT.out.tagihan.0031",
                status="read",
                timestamp=1793590120,
                recipient_id=SITI,
                phone_number_id=BANK_PNID,
                waba_id=BANK_WABA,
                pricing=pmp(),
                raw=ANY,
            ),
        ),
        (
            "status_failed.json",
            StatusUpdate(
                wamid="wamid.LKT.out.promo.0043",
                status="failed",
                timestamp=1793590200,
                recipient_id=AGUS,
                phone_number_id=BANK_PNID,
                waba_id=BANK_WABA,
                errors=(
                    WebhookError(
                        code=131049,
                        title="This message was not delivered to maintain healthy ecosystem engagement.",
                        message="This message was not delivered to maintain healthy ecosystem engagement.",
                        details="In order to maintain a healthy ecosystem engagement, "
                        "the message failed to be delivered.",
                        href=HREF,
                    ),
                ),
                raw=ANY,
            ),
        ),
    ],
)
def test_status_fixture(name: str, expected: StatusUpdate) -> None:
    env = parse_fixture(name)

    assert env.statuses == [expected]
    assert not (env.messages or env.unrecognised)


def test_batched_envelope_keeps_every_record_with_its_number() -> None:
    env = parse_fixture("batched.json")

    assert [(m.wamid, m.phone_number_id, m.wa_id, m.profile_name, m.user_id) for m in env.messages] == [
        ("wamid.LKT.in.batch.0001", BANK_PNID, BUDI, "Budi Santoso", None),
        ("wamid.LKT.in.batch.0002", BANK_PNID, SITI, "Siti Rahayu", SITI_BSUID),
        ("wamid.LKT.in.batch.0003", INSURER_PNID, DEWI, "Dewi Lestari", None),
    ]
    assert env.messages[2].kind is MessageKind.INTERACTIVE_BUTTON_REPLY
    assert env.messages[2].reply_id == "klaim_baru"
    assert [(s.wamid, s.status, s.phone_number_id, s.waba_id, s.pricing) for s in env.statuses] == [
        (
            "wamid.LKT.out.saldo.0008",
            "delivered",
            BANK_PNID,
            BANK_WABA,
            pmp("service", "free_customer_service", billable=False),
        ),
        ("wamid.LKT.out.saldo.0008", "read", BANK_PNID, BANK_WABA, None),
        ("wamid.LKT.out.polis.0050", "sent", INSURER_PNID, INSURER_WABA, pmp("marketing")),
    ]
    assert env.template_updates == [
        TemplateStatusUpdate(
            waba_id=INSURER_WABA,
            event="REJECTED",
            template_id="7700000000000123",
            name="promo_asuransi_perjalanan",
            language="id",
            reason="INVALID_FORMAT",
            category="MARKETING",
            raw=ANY,
        )
    ]
    assert not (env.unrecognised or env.errors or env.preference_updates)


def test_out_of_band_errors() -> None:
    env = parse_fixture("out_of_band_errors.json")

    assert env.errors == [
        ChangeError(
            error=WebhookError(
                code=131000,
                title="Something went wrong",
                message="Something went wrong",
                details="Unsupported webhook payload",
                href=HREF,
            ),
            waba_id=BANK_WABA,
            phone_number_id=BANK_PNID,
            raw=ANY,
        )
    ]
    assert not (env.messages or env.statuses or env.unrecognised)


def test_template_status_update() -> None:
    env = parse_fixture("template_status_update.json")

    assert env.template_updates == [
        TemplateStatusUpdate(
            waba_id=BANK_WABA,
            event="APPROVED",
            template_id="7700000000000042",
            name="pengingat_tagihan_kartu",
            language="id",
            reason="NONE",
            category="UTILITY",
            raw=ANY,
        )
    ]
    assert env.unrecognised == []


def test_marketing_stop() -> None:
    env = parse_fixture("user_preferences_stop.json")

    assert env.preference_updates == [
        MarketingPreferenceUpdate(
            wa_id=BUDI,
            value="stop",
            category="marketing_messages",
            detail="User requested to stop marketing messages",
            timestamp=1793590500,
            phone_number_id=BANK_PNID,
            waba_id=BANK_WABA,
            raw=ANY,
        )
    ]
    assert not (env.unrecognised or env.messages)


def test_unknown_field_is_kept_as_unrecognised() -> None:
    doc = orjson.loads(load_fixture("account_update.json"))

    env = parse_envelope(doc)

    assert env.is_whatsapp
    assert env.unrecognised == [
        Unrecognised(
            reason="unhandled_field",
            raw=doc["entry"][0]["changes"][0],
            waba_id=BANK_WABA,
            field="account_update",
        )
    ]
    assert not (env.messages or env.statuses or env.template_updates)


def test_bytes_and_decoded_dict_parse_alike() -> None:
    for path in sorted(FIXTURES.glob("*.json")):
        body = path.read_bytes()
        assert parse_envelope(body) == parse_envelope(orjson.loads(body)), path.name


def test_every_fixture_is_covered() -> None:
    covered = set(SINGLE_MESSAGE_FIXTURES) | {
        "status_sent.json",
        "status_delivered.json",
        "status_read.json",
        "status_failed.json",
        "batched.json",
        "out_of_band_errors.json",
        "template_status_update.json",
        "user_preferences_stop.json",
        "account_update.json",
    }

    assert {path.name for path in FIXTURES.glob("*.json")} == covered
