"""The webhook parser never raises, loses nothing, and files malformed parts under `unrecognised`."""

from __future__ import annotations

import copy
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from loket.channel.inbound import (
    MEDIA_KINDS,
    InboundMessage,
    MessageKind,
    ParsedEnvelope,
    StatusUpdate,
    Unrecognised,
    parse_envelope,
)

FIXTURES = Path(__file__).parent.parent / "fixtures" / "webhooks"
BANK_PNID = "109876543210001"
SITI = "6281234567890"

fuzz = settings(max_examples=150, database=None, suppress_health_check=[HealthCheck.too_slow])


def load_fixture(name: str) -> Any:
    return orjson.loads((FIXTURES / name).read_bytes())


# Keys the parser looks at, so that generated junk reaches the interesting branches.
WIRE_KEYS = [
    "object", "entry", "id", "changes", "field", "value", "metadata", "phone_number_id",
    "display_phone_number", "contacts", "profile", "name", "wa_id", "user_id", "messages", "statuses",
    "errors", "from", "from_user_id", "timestamp", "type", "text", "body", "image", "video", "audio",
    "document", "sticker", "caption", "mime_type", "voice", "animated", "location", "latitude",
    "longitude", "reaction", "message_id", "emoji", "interactive", "button_reply", "list_reply",
    "nfm_reply", "response_json", "flow_token", "title", "button", "payload", "order",
    "product_items", "item_price", "quantity", "system", "identity", "acknowledged", "hash",
    "context", "forwarded", "referral", "referred_product", "status", "pricing", "billable",
    "conversation", "code", "error_data", "details", "event", "message_template_id",
    "user_preferences", "phones", "emails",
]  # fmt: skip
MESSAGE_TYPES = [
    "text", "image", "video", "audio", "document", "sticker", "location", "contacts", "reaction",
    "interactive", "button", "order", "system", "unsupported", "unknown", "poll", "",
]  # fmt: skip
FIELDS = ["messages", "message_template_status_update", "user_preferences", "account_update", "flows"]

scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=20)
    | st.sampled_from(["", "0", "1793588400", "-6.2", "1e999", "nan", "{}", '{"flow_token":1}', SITI])
)
keys = st.sampled_from(WIRE_KEYS) | st.text(max_size=6)
junk = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(keys, children, max_size=5),
    max_leaves=25,
)


def typed(payload_key: str) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries({}, optional={payload_key: junk})


message_like = st.fixed_dictionaries(
    {"type": st.sampled_from(MESSAGE_TYPES)},
    optional={
        "id": st.sampled_from(["wamid.LKT.fuzz.1", "", 7]) | junk,
        "from": st.sampled_from([SITI, 6281234567890, ""]) | junk,
        "from_user_id": junk,
        "timestamp": junk,
        "context": junk,
        "referral": junk,
        "errors": junk,
        "identity": junk,
        **dict.fromkeys(MESSAGE_TYPES, junk),
    },
)
status_like = st.fixed_dictionaries(
    {},
    optional={
        "id": st.just("wamid.LKT.out.fuzz.1") | junk,
        "status": st.sampled_from(["sent", "delivered", "read", "failed", "played", "deleted", "held"]) | junk,
        "timestamp": junk,
        "recipient_id": junk,
        "pricing": junk,
        "conversation": junk,
        "errors": junk,
    },
)
metadata = st.fixed_dictionaries(
    {}, optional={"phone_number_id": st.just(BANK_PNID) | junk, "display_phone_number": junk}
)
value_like = st.fixed_dictionaries(
    {},
    optional={
        "metadata": metadata | junk,
        "contacts": st.lists(junk | st.just({"wa_id": SITI, "profile": {"name": "Siti Rahayu"}})) | junk,
        "messages": st.lists(message_like | junk, max_size=4) | junk,
        "statuses": st.lists(status_like | junk, max_size=4) | junk,
        "errors": junk,
        "user_preferences": junk,
        "event": junk,
    },
)
change_like = st.fixed_dictionaries({}, optional={"field": st.sampled_from(FIELDS) | junk, "value": value_like | junk})
envelope_like = st.fixed_dictionaries(
    {"object": st.just("whatsapp_business_account") | junk},
    optional={
        "entry": st.lists(
            st.fixed_dictionaries({}, optional={"id": junk, "changes": st.lists(change_like | junk) | junk}) | junk,
            max_size=3,
        )
        | junk
    },
)


def assert_well_formed(env: ParsedEnvelope) -> None:
    """The invariants consumers rely on, whatever came in."""
    assert isinstance(env, ParsedEnvelope)
    for message in env.messages:
        assert isinstance(message, InboundMessage)
        assert message.wamid and message.phone_number_id
        assert message.wa_id or message.user_id
        assert isinstance(message.kind, MessageKind)
        assert message.timestamp is None or isinstance(message.timestamp, int)
        assert (message.media is not None) == (message.kind in MEDIA_KINDS)
        if message.kind is MessageKind.TEXT:
            assert isinstance(message.text, str)
        if message.kind is MessageKind.LOCATION:
            assert message.location is not None
        if message.kind is MessageKind.REACTION:
            assert message.reaction is not None
            assert message.reaction.emoji != ""
        if message.kind is MessageKind.FLOW_REPLY:
            assert message.flow_response is not None
            assert isinstance(message.flow_response.data, dict)
        if message.kind in (MessageKind.INTERACTIVE_BUTTON_REPLY, MessageKind.INTERACTIVE_LIST_REPLY):
            assert message.reply_id
        if message.kind is MessageKind.ORDER:
            assert message.order is not None
        if message.kind is MessageKind.SYSTEM:
            assert message.system is not None
    for status in env.statuses:
        assert isinstance(status, StatusUpdate)
        assert status.wamid and status.status and status.phone_number_id
    for part in env.unrecognised:
        assert isinstance(part, Unrecognised)
        assert part.reason.isidentifier()
    if not env.is_whatsapp:
        assert not (env.messages or env.statuses or env.template_updates or env.preference_updates)


@fuzz
@given(junk)
def test_any_json_value_never_raises(doc: Any) -> None:
    assert_well_formed(parse_envelope(doc))


@fuzz
@given(st.binary(max_size=200))
def test_any_bytes_never_raise(body: bytes) -> None:
    assert_well_formed(parse_envelope(body))


@fuzz
@given(envelope_like)
def test_envelope_shaped_junk_never_raises(doc: dict[str, Any]) -> None:
    assert_well_formed(parse_envelope(doc))


@fuzz
@given(st.lists(message_like | junk, max_size=6), st.lists(status_like | junk, max_size=6))
def test_every_message_and_status_is_parsed_or_kept(messages: list[Any], statuses: list[Any]) -> None:
    value = {"metadata": {"phone_number_id": BANK_PNID}, "messages": messages, "statuses": statuses}
    doc = {
        "object": "whatsapp_business_account",
        "entry": [{"id": "1", "changes": [{"field": "messages", "value": value}]}],
    }

    env = parse_envelope(doc)

    kept_messages = [u for u in env.unrecognised if u.reason.startswith("message_")]
    kept_statuses = [u for u in env.unrecognised if u.reason.startswith("status_")]
    assert len(env.messages) + len(kept_messages) == len(messages)
    assert len(env.statuses) + len(kept_statuses) == len(statuses)
    kept = [m.raw for m in env.messages] + [u.raw for u in kept_messages]
    assert sorted(map(id, kept)) == sorted(map(id, messages))


payload_for_type = st.sampled_from(MESSAGE_TYPES).flatmap(
    lambda kind: st.tuples(
        st.just(kind),
        junk
        | st.dictionaries(keys, junk, max_size=6)
        | st.fixed_dictionaries(
            {"type": st.sampled_from(["button_reply", "list_reply", "nfm_reply", "carousel"]) | junk},
            optional={name: st.dictionaries(keys, junk) | junk for name in ("button_reply", "list_reply", "nfm_reply")},
        ),
    )
)


@fuzz
@given(payload_for_type, st.dictionaries(keys, junk, max_size=3))
def test_any_payload_under_a_valid_header_is_one_message(
    type_and_payload: tuple[str, Any], extra: dict[str, Any]
) -> None:
    kind, payload = type_and_payload
    wire = extra | {"from": SITI, "id": "wamid.LKT.fuzz.2", "type": kind, kind or "empty": payload}
    doc = {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": "1",
                "changes": [{"field": "messages", "value": {"metadata": {"phone_number_id": 1}, "messages": [wire]}}],
            }
        ],
    }

    env = parse_envelope(doc)

    assert_well_formed(env)
    assert [m.raw for m in env.messages] == [wire]


def _paths(node: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [path]
    if isinstance(node, dict):
        for key, child in node.items():
            found += _paths(child, (*path, key))
    elif isinstance(node, list):
        for index, child in enumerate(node):
            found += _paths(child, (*path, index))
    return found


FIXTURE_NAMES = sorted(path.name for path in FIXTURES.glob("*.json"))


@fuzz
@given(st.sampled_from(FIXTURE_NAMES), st.data())
def test_a_valid_fixture_with_one_node_replaced_never_raises(name: str, data: st.DataObject) -> None:
    doc = copy.deepcopy(load_fixture(name))
    path = data.draw(st.sampled_from(_paths(doc)[1:]))
    parent = doc
    for step in path[:-1]:
        parent = parent[step]
    parent[path[-1]] = data.draw(junk)

    assert_well_formed(parse_envelope(doc))


def envelope(*changes: Any, waba_id: Any = "209876543210001") -> dict[str, Any]:
    return {"object": "whatsapp_business_account", "entry": [{"id": waba_id, "changes": list(changes)}]}


def messages_change(*messages: Any, **value: Any) -> dict[str, Any]:
    return {
        "field": "messages",
        "value": {"metadata": {"phone_number_id": BANK_PNID}, "messages": list(messages), **value},
    }


def change(field: str, **value: Any) -> dict[str, Any]:
    return {"field": field, "value": value}


def messages_value(**value: Any) -> dict[str, Any]:
    return change("messages", metadata={"phone_number_id": 1}, **value)


def text_message(**fields: Any) -> dict[str, Any]:
    return {"from": SITI, "id": "wamid.LKT.robust.1", "timestamp": "1793588400", "type": "text"} | {
        "text": {"body": "Halo"},
        **fields,
    }


@pytest.mark.parametrize(
    ("doc", "reason"),
    [
        (b"{not json", "invalid_json"),
        ([1, 2, 3], "envelope_not_object"),
        ({"object": "page", "entry": []}, "not_whatsapp"),
        ({"object": "whatsapp_business_account", "entry": {"id": "x"}}, "entry_not_list"),
        ({"object": "whatsapp_business_account"}, "entry_not_list"),
        ({"object": "whatsapp_business_account", "entry": ["oops"]}, "entry_not_object"),
        ({"object": "whatsapp_business_account", "entry": [{"id": "1"}]}, "changes_not_list"),
        (envelope(42), "change_not_object"),
        (envelope({"value": {}}), "change_without_field"),
        (envelope({"field": "messages", "value": "nope"}), "value_not_object"),
        (envelope({"field": "messages", "value": {"messages": [text_message()]}}), "missing_phone_number_id"),
        (envelope({"field": "messages", "value": {"metadata": {"phone_number_id": BANK_PNID}}}), "no_known_content"),
        (envelope(messages_change("just a string")), "message_not_object"),
        (envelope(messages_change(text_message(id=None))), "message_without_id"),
        (envelope(messages_change(text_message(id=""))), "message_without_id"),
        (envelope(messages_change(text_message(**{"from": None}))), "message_without_sender"),
        (envelope(messages_value(messages={})), "messages_not_list"),
        (envelope(messages_value(statuses="x")), "statuses_not_list"),
        (envelope(messages_value(statuses=[7])), "status_not_object"),
        (envelope(messages_value(statuses=[{"status": "read"}])), "status_without_id"),
        (envelope(messages_value(statuses=[{"id": "w"}])), "status_without_status"),
        (envelope(messages_value(errors=["bad"])), "error_not_object"),
        (envelope(messages_value(errors={})), "errors_not_list"),
        (envelope(change("message_template_status_update", message_template_id=1)), "template_update_without_event"),
        (envelope(change("user_preferences", user_preferences={})), "user_preferences_not_list"),
        (envelope(change("user_preferences", user_preferences=[None])), "preference_not_object"),
        (envelope(change("user_preferences", user_preferences=[{"wa_id": SITI}])), "preference_incomplete"),
        (envelope({"field": "flows", "value": {"event": "FLOW_STATUS_CHANGE"}}), "unhandled_field"),
    ],
)  # fmt: skip
def test_malformed_part_lands_in_unrecognised(doc: Any, reason: str) -> None:
    env = parse_envelope(doc)

    assert [part.reason for part in env.unrecognised] == [reason]
    assert not (env.messages or env.statuses or env.template_updates or env.preference_updates)


def test_bad_parts_do_not_hide_good_ones() -> None:
    doc = envelope(
        "junk",
        messages_change(text_message(id=None), text_message(id="wamid.LKT.robust.ok")),
        {"field": "account_update", "value": {}},
    )

    env = parse_envelope(doc)

    assert [m.wamid for m in env.messages] == ["wamid.LKT.robust.ok"]
    assert sorted(part.reason for part in env.unrecognised) == [
        "change_not_object",
        "message_without_id",
        "unhandled_field",
    ]
    bad = next(part for part in env.unrecognised if part.reason == "message_without_id")
    assert bad.raw == text_message(id=None)
    assert (bad.waba_id, bad.phone_number_id, bad.field) == ("209876543210001", BANK_PNID, "messages")


def only_message(doc: Any) -> InboundMessage:
    env = parse_envelope(doc)
    assert env.unrecognised == []
    (message,) = env.messages
    return message


def test_unknown_type_is_kept_as_unknown() -> None:
    wire = {"from": SITI, "id": "wamid.LKT.robust.2", "timestamp": "1", "type": "poll", "poll": {"q": "?"}}

    message = only_message(envelope(messages_change(wire)))

    assert (message.kind, message.type, message.raw) == (MessageKind.UNKNOWN, "poll", wire)


@pytest.mark.parametrize(
    "wire",
    [
        text_message(type="image", image={"caption": "no id"}),
        text_message(type="image"),
        text_message(type="interactive", interactive={"type": "list_reply"}),
        text_message(type="order", order="two policies"),
        text_message(type="text", text={"body": ["not", "text"]}),
        text_message(type="location", location={"latitude": "far", "longitude": 1}),
        text_message(type="reaction", reaction={"emoji": "👍"}),
        text_message(type="interactive", interactive={"type": "button_reply", "button_reply": {"title": "Ya"}}),
        text_message(type="interactive", interactive={"type": "carousel_reply", "carousel_reply": {"id": "1"}}),
        text_message(type=["text"]),
        text_message(type=None),
    ],
)
def test_known_type_with_unusable_payload_becomes_unknown(wire: dict[str, Any]) -> None:
    message = only_message(envelope(messages_change(wire)))

    assert message.kind is MessageKind.UNKNOWN
    assert message.raw is wire


def test_legacy_unknown_type_is_unsupported() -> None:
    message = only_message(envelope(messages_change(text_message(type="unknown"))))

    assert message.kind is MessageKind.UNSUPPORTED


def test_extra_fields_everywhere_are_ignored() -> None:
    wire = text_message(extra={"nested": [1, 2]}, text={"body": "Halo", "preview_url": False})
    doc = envelope(messages_change(wire, future_thing=[{"x": 1}]))
    doc["entry"][0]["time"] = 1793588400
    doc["brand_new"] = True

    message = only_message(doc)

    assert message.text == "Halo"


def test_huge_text_is_kept_whole() -> None:
    body = "Saya mau komplain. " * 200_000

    message = only_message(orjson.dumps(envelope(messages_change(text_message(text={"body": body})))))

    assert message.text == body


def test_numbers_may_arrive_as_ints_or_strings() -> None:
    wire = {"from": 6281234567890, "id": "wamid.LKT.robust.3", "timestamp": 1793588400, "type": "text"}
    doc = envelope(
        {
            "field": "messages",
            "value": {
                "metadata": {"phone_number_id": 109876543210001, "display_phone_number": 6221500888},
                "contacts": [{"wa_id": 6281234567890, "profile": {"name": "Siti Rahayu"}}],
                "messages": [wire | {"text": {"body": "Halo"}}],
            },
        },
        waba_id=209876543210001,
    )

    message = only_message(doc)

    assert (message.wa_id, message.phone_number_id, message.display_phone_number, message.waba_id) == (
        SITI,
        BANK_PNID,
        "6221500888",
        "209876543210001",
    )
    assert (message.timestamp, message.profile_name) == (1793588400, "Siti Rahayu")


def test_unparseable_timestamp_is_none() -> None:
    assert only_message(envelope(messages_change(text_message(timestamp="kemarin")))).timestamp is None


def test_absurdly_large_number_does_not_raise() -> None:
    message = only_message(envelope(messages_change(text_message(**{"from": SITI}, timestamp=10**5000))))

    assert message.timestamp == 10**5000
    assert parse_envelope(envelope(messages_change(text_message(**{"from": 10**5000})))).unrecognised[0].reason == (
        "message_without_sender"
    )


def test_missing_contacts_and_bsuid() -> None:
    message = only_message(envelope(messages_change(text_message())))

    assert (message.profile_name, message.user_id) == (None, None)


def test_sender_known_only_by_bsuid() -> None:
    wire = text_message(**{"from": None, "from_user_id": "ID.1408725933017712"})
    doc = envelope(
        messages_change(wire, contacts=[{"user_id": "ID.1408725933017712", "profile": {"name": "Siti Rahayu"}}])
    )

    message = only_message(doc)

    assert (message.wa_id, message.user_id, message.profile_name) == (None, "ID.1408725933017712", "Siti Rahayu")


@pytest.mark.parametrize("response_json", ["{not json", "[1, 2]", None, 5])
def test_malformed_flow_response_is_kept_with_a_flag(response_json: Any) -> None:
    nfm = {"name": "flow", "body": "Sent", "response_json": response_json}
    wire = text_message(type="interactive", interactive={"type": "nfm_reply", "nfm_reply": nfm})

    message = only_message(envelope(messages_change(wire)))

    assert message.kind is MessageKind.FLOW_REPLY
    assert message.flow_response is not None
    assert message.flow_response.malformed
    assert message.flow_response.data == {}
    assert message.flow_response.flow_token is None
    expected_raw = response_json if isinstance(response_json, str) else None
    assert message.flow_response.response_json == expected_raw


def test_reaction_without_emoji_key_is_a_removal() -> None:
    wire = text_message(type="reaction", reaction={"message_id": "wamid.LKT.out.1"})

    message = only_message(envelope(messages_change(wire)))

    assert message.reaction is not None
    assert message.reaction.emoji is None


def test_flow_response_already_decoded_is_accepted() -> None:
    nfm = {"name": "flow", "body": "Sent", "response_json": {"flow_token": "klaim-1", "setuju": True}}
    wire = text_message(type="interactive", interactive={"type": "nfm_reply", "nfm_reply": nfm})

    flow = only_message(envelope(messages_change(wire))).flow_response

    assert flow is not None
    assert (flow.flow_token, flow.data, flow.malformed) == ("klaim-1", nfm["response_json"], False)


@pytest.mark.parametrize(
    ("latitude", "longitude", "expected"),
    [("-6.2", "106.8", (-6.2, 106.8)), (-6, 106, (-6.0, 106.0)), (True, 1, None), ("1e999", 1, None), ("nan", 1, None)],
)
def test_location_coordinates(latitude: Any, longitude: Any, expected: tuple[float, float] | None) -> None:
    wire = text_message(type="location", location={"latitude": latitude, "longitude": longitude})

    message = only_message(envelope(messages_change(wire)))

    if expected is None:
        assert message.kind is MessageKind.UNKNOWN
    else:
        assert message.location is not None
        assert (message.location.latitude, message.location.longitude) == expected


@pytest.mark.parametrize(
    ("price", "quantity", "expected"),
    [
        ("15000.50", "3", (Decimal("15000.50"), 3)),
        (0.1, 2.0, (Decimal("0.1"), 2)),
        ("gratis", 2.5, (None, None)),
        ("NaN", True, (None, None)),
        ([1], "", (None, None)),
    ],
)
def test_order_item_numbers(price: Any, quantity: Any, expected: tuple[Decimal | None, int | None]) -> None:
    item = {"product_retailer_id": "polis-1", "item_price": price, "quantity": quantity, "currency": "IDR"}
    wire = text_message(type="order", order={"catalog_id": 1, "product_items": [item, "junk"]})

    order = only_message(envelope(messages_change(wire))).order

    assert order is not None
    assert [(i.item_price, i.quantity) for i in order.items] == [expected]
