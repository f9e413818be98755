"""Chats as the phone sees them: every message in both directions, in order, with its status history."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

JsonObject = dict[str, Any]
Direction = Literal["in", "out"]

# A status never moves backwards on the phone, although webhooks may arrive in any order.
STATUS_RANK = {"accepted": 0, "sent": 1, "delivered": 2, "read": 3, "failed": 4}


def epoch(at: datetime) -> str:
    return str(int(at.timestamp()))


@dataclass(slots=True)
class StatusChange:
    status: str
    at: datetime

    def as_dict(self) -> JsonObject:
        return {"status": self.status, "timestamp": epoch(self.at)}


@dataclass(slots=True)
class Pricing:
    category: str  # service | utility | marketing | authentication
    type: str  # free_customer_service | regular
    conversation_id: str
    conversation_expires_at: datetime

    @property
    def billable(self) -> bool:
        return self.type == "regular"


@dataclass(slots=True)
class ChatMessage:
    id: str
    phone_number_id: str
    wa_id: str
    direction: Direction
    type: str
    payload: JsonObject  # outbound: the send request body; inbound: the webhook message object
    timestamp: datetime
    status: str | None = None
    history: list[StatusChange] = field(default_factory=list)
    biz_opaque_callback_data: str | None = None
    pricing: Pricing | None = None
    rendered: JsonObject | None = None  # a template resolved against its components, for the page
    errors: list[JsonObject] = field(default_factory=list)
    # Set when the send is accepted but will fail asynchronously (unknown user, missing media).
    pending_failure: JsonObject | None = None

    def advance(self, status: str, at: datetime) -> bool:
        """Record a status; False when it would move the message backwards (it is then ignored)."""
        if self.status is not None and STATUS_RANK[status] <= STATUS_RANK[self.status]:
            return False
        self.status = status
        self.history.append(StatusChange(status, at))
        return True

    def as_dict(self) -> JsonObject:
        data: JsonObject = {
            "id": self.id,
            "direction": self.direction,
            "phone_number_id": self.phone_number_id,
            "wa_id": self.wa_id,
            "type": self.type,
            "timestamp": epoch(self.timestamp),
            "payload": self.payload,
        }
        if self.direction == "out":
            data["status"] = self.status
            data["statuses"] = [change.as_dict() for change in self.history]
            data["biz_opaque_callback_data"] = self.biz_opaque_callback_data
            if self.rendered is not None:
                data["rendered"] = self.rendered
            if self.errors:
                data["errors"] = self.errors
            if self.pricing is not None:
                data["pricing"] = {"category": self.pricing.category, "type": self.pricing.type}
        return data


@dataclass(slots=True)
class Chat:
    phone_number_id: str
    wa_id: str
    profile_name: str
    messages: list[ChatMessage] = field(default_factory=list)
    last_inbound_at: datetime | None = None
    # Conversation ids by pricing category; a conversation lasts 24 h from its first message.
    conversations: dict[str, tuple[str, datetime]] = field(default_factory=dict)


class ChatStore:
    def __init__(self) -> None:
        self._chats: dict[tuple[str, str], Chat] = {}
        self._messages: dict[str, ChatMessage] = {}
        self.sent: list[ChatMessage] = []

    def chat(self, phone_number_id: str, wa_id: str, profile_name: str | None = None) -> Chat:
        key = (phone_number_id, wa_id)
        chat = self._chats.get(key)
        if chat is None:
            chat = Chat(phone_number_id, wa_id, profile_name or wa_id)
            self._chats[key] = chat
        elif profile_name:
            chat.profile_name = profile_name
        return chat

    def find_chat(self, phone_number_id: str, wa_id: str) -> Chat | None:
        return self._chats.get((phone_number_id, wa_id))

    def chats(self) -> list[Chat]:
        return list(self._chats.values())

    def add(self, message: ChatMessage) -> None:
        chat = self.chat(message.phone_number_id, message.wa_id)
        chat.messages.append(message)
        self._messages[message.id] = message
        if message.direction == "in":
            chat.last_inbound_at = message.timestamp
        else:
            self.sent.append(message)

    def message(self, message_id: str) -> ChatMessage | None:
        return self._messages.get(message_id)

    def clear(self) -> None:
        self._chats.clear()
        self._messages.clear()
        self.sent.clear()
