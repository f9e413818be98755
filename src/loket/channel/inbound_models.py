"""Typed, storage-ready records for what a WhatsApp webhook delivers, and the status-merge rule.

The parser that builds them lives in `loket.channel.inbound`. Every record keeps the wire dict it
came from in `raw` (shared with the parsed envelope, so treat it as read-only).
Shapes: docs/reference whatsapp-cloud-api.md section 1.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

JsonObject = dict[str, Any]


class MessageKind(enum.StrEnum):
    TEXT = "text"
    IMAGE = "image"
    VIDEO = "video"
    AUDIO = "audio"
    DOCUMENT = "document"
    STICKER = "sticker"
    LOCATION = "location"
    CONTACTS = "contacts"
    REACTION = "reaction"
    INTERACTIVE_BUTTON_REPLY = "interactive_button_reply"
    INTERACTIVE_LIST_REPLY = "interactive_list_reply"
    FLOW_REPLY = "flow_reply"
    TEMPLATE_BUTTON = "template_button"
    ORDER = "order"
    SYSTEM = "system"
    UNSUPPORTED = "unsupported"
    UNKNOWN = "unknown"


MEDIA_KINDS = frozenset(
    {MessageKind.IMAGE, MessageKind.VIDEO, MessageKind.AUDIO, MessageKind.DOCUMENT, MessageKind.STICKER}
)


@dataclass(frozen=True, slots=True, kw_only=True)
class WebhookError:
    code: int | None
    title: str | None = None
    message: str | None = None
    details: str | None = None
    href: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Media:
    id: str
    mime_type: str | None = None
    sha256: str | None = None
    filename: str | None = None
    caption: str | None = None
    url: str | None = None
    voice: bool = False
    animated: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class Location:
    latitude: float
    longitude: float
    name: str | None = None
    address: str | None = None
    url: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class SharedPhone:
    phone: str | None
    wa_id: str | None = None
    type: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class SharedContact:
    """A contact card the customer sent, parsed shallowly; everything else stays in `raw`."""

    formatted_name: str | None
    first_name: str | None = None
    last_name: str | None = None
    phones: tuple[SharedPhone, ...] = ()
    emails: tuple[str, ...] = ()
    raw: JsonObject = field(default_factory=dict)


@dataclass(frozen=True, slots=True, kw_only=True)
class Reaction:
    message_id: str
    emoji: str | None
    """None when the customer removed their reaction."""


@dataclass(frozen=True, slots=True, kw_only=True)
class FlowResponse:
    """A completed WhatsApp Flow (`interactive.nfm_reply`).

    `data` is `response_json` decoded (flow_token included, as on the wire). When `response_json` is
    missing or is not a JSON object, `malformed` is set, `data` is empty and the string is kept.
    """

    name: str | None
    body: str | None
    data: JsonObject
    flow_token: str | None
    response_json: str | None
    malformed: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderItem:
    product_retailer_id: str | None
    quantity: int | None = None
    item_price: Decimal | None = None
    currency: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Order:
    catalog_id: str | None
    text: str | None = None
    items: tuple[OrderItem, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class SystemEvent:
    type: str | None
    body: str | None = None
    new_wa_id: str | None = None
    identity_acknowledged: bool | None = None
    identity_created_timestamp: int | None = None
    identity_hash: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class MessageContext:
    message_id: str | None
    from_wa_id: str | None = None
    forwarded: bool = False
    frequently_forwarded: bool = False
    referred_catalog_id: str | None = None
    referred_product_retailer_id: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Referral:
    """Click-to-WhatsApp ad attribution."""

    source_url: str | None = None
    source_id: str | None = None
    source_type: str | None = None
    headline: str | None = None
    body: str | None = None
    media_type: str | None = None
    image_url: str | None = None
    video_url: str | None = None
    thumbnail_url: str | None = None
    ctwa_clid: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class InboundMessage:
    """One customer message.

    Invariants the parser keeps: a media kind has `media`; TEXT has `text`; LOCATION has `location`;
    CONTACTS has `contacts`; REACTION has `reaction`; FLOW_REPLY has `flow_response`; button and list
    replies have `reply_id`; ORDER has `order`; SYSTEM has `system`. A known type whose payload is
    unusable becomes UNKNOWN. `wa_id` is None only when Meta names the sender by BSUID alone
    (`from_user_id`); then `user_id` is set. `timestamp` is None when the wire value is not a number.
    """

    wamid: str
    phone_number_id: str
    display_phone_number: str | None
    waba_id: str | None
    wa_id: str | None
    user_id: str | None
    profile_name: str | None
    timestamp: int | None
    kind: MessageKind
    type: str | None
    """The wire `type`, kept so UNKNOWN messages can be counted by what they were."""
    text: str | None = None
    reply_id: str | None = None
    media: Media | None = None
    location: Location | None = None
    contacts: tuple[SharedContact, ...] = ()
    reaction: Reaction | None = None
    flow_response: FlowResponse | None = None
    order: Order | None = None
    system: SystemEvent | None = None
    context: MessageContext | None = None
    referral: Referral | None = None
    errors: tuple[WebhookError, ...] = ()
    raw: JsonObject = field(default_factory=dict)


@dataclass(frozen=True, slots=True, kw_only=True)
class Pricing:
    billable: bool | None
    pricing_model: str | None = None
    category: str | None = None
    type: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class StatusUpdate:
    """A delivery status for a message we sent. `status` is kept as sent, even if unknown to us."""

    wamid: str
    status: str
    timestamp: int | None
    recipient_id: str | None
    phone_number_id: str
    waba_id: str | None = None
    biz_opaque_callback_data: str | None = None
    conversation_id: str | None = None
    pricing: Pricing | None = None
    errors: tuple[WebhookError, ...] = ()
    raw: JsonObject = field(default_factory=dict)


@dataclass(frozen=True, slots=True, kw_only=True)
class TemplateStatusUpdate:
    waba_id: str | None
    event: str
    template_id: str | None
    name: str | None = None
    language: str | None = None
    reason: str | None = None
    category: str | None = None
    raw: JsonObject = field(default_factory=dict)


@dataclass(frozen=True, slots=True, kw_only=True)
class MarketingPreferenceUpdate:
    wa_id: str
    value: str
    """`stop` or `resume`, kept as sent."""
    category: str | None
    detail: str | None = None
    timestamp: int | None = None
    phone_number_id: str | None = None
    waba_id: str | None = None
    raw: JsonObject = field(default_factory=dict)


@dataclass(frozen=True, slots=True, kw_only=True)
class ChangeError:
    """An out-of-band error (`value.errors[]`), not tied to one of our messages."""

    error: WebhookError
    waba_id: str | None
    phone_number_id: str | None
    raw: JsonObject = field(default_factory=dict)


@dataclass(frozen=True, slots=True, kw_only=True)
class Unrecognised:
    """A part of a webhook we could not use, kept for inspection.

    `reason` is a stable snake_case code, safe as a metric label; `raw` is the offending sub-document.
    """

    reason: str
    raw: object
    waba_id: str | None = None
    phone_number_id: str | None = None
    field: str | None = None


@dataclass(slots=True)
class ParsedEnvelope:
    is_whatsapp: bool = False
    messages: list[InboundMessage] = field(default_factory=list)
    statuses: list[StatusUpdate] = field(default_factory=list)
    template_updates: list[TemplateStatusUpdate] = field(default_factory=list)
    preference_updates: list[MarketingPreferenceUpdate] = field(default_factory=list)
    errors: list[ChangeError] = field(default_factory=list)
    unrecognised: list[Unrecognised] = field(default_factory=list)


_STATUS_RANK = {"sent": 1, "failed": 2, "delivered": 3, "read": 4, "played": 4, "deleted": 5}
# Breaks the read/played tie so that merging stays order-independent; `played` says more.
_STATUS_TIEBREAK = {"played": 1}


def status_rank(status: str) -> int:
    """Where a status sits in the merge order; unknown statuses rank 0, below `sent`.

    sent (1) < failed (2) < delivered (3) < read = played (4) < deleted (5).

    - The positive chain only moves forward: a late `delivered` after `read` does not regress, and
      `read` without `delivered` implies delivery.
    - `failed` is terminal for the send (a late `sent` never revives it) but ranks below positive
      evidence: with multi-device users Meta can report `failed` for one device and `delivered` or
      `read` for another, in either order. We keep the best positive state; the failure itself is
      retained as its own `(wamid, "failed")` status record with its errors.
    - `deleted` is terminal over everything.
    """
    return _STATUS_RANK.get(status, 0)


def _merge_key(status: str) -> tuple[int, int, str]:
    return (_STATUS_RANK.get(status, 0), _STATUS_TIEBREAK.get(status, 0), status)


def merge_status(current: str | None, incoming: str) -> str:
    """The message's status after `incoming` arrives, by the rule in `status_rank`.

    This is the maximum of a total order (rank, then `played` over `read`, then the string itself
    for unknown statuses), so any arrival order of the same statuses gives the same result.
    """
    if current is None:
        return incoming
    return max(current, incoming, key=_merge_key)
