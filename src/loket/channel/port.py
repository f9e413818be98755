"""ChannelPort: what Loket asks of WhatsApp's sending side, free of any HTTP library.

Adapters: `loket.channel.graph.GraphClient` (the Graph API, or the sandbox speaking its dialect).
Every call takes the tenant's phone number id and access token, since each bank has its own.

Failures raise `loket.channel.errors` types: `InvalidOutgoingMessage` before anything is sent,
`GraphError` when Meta answered with an error, `GraphTransportError` when no answer came back.
`loket.channel.errors.classify(exc)` says whether to retry, wait, switch to a template, reconcile
or give up.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from loket.channel.outgoing import Sendable


@dataclass(frozen=True, slots=True)
class SentMessage:
    wamid: str
    wa_id: str | None  # the recipient's normalised WhatsApp id, when Meta reports it
    message_status: str | None  # "accepted" or "held_for_quality_assessment" (template pacing)


@dataclass(frozen=True, slots=True)
class MediaInfo:
    url: str  # expires after 5 minutes; download it with the same access token
    mime_type: str
    sha256: str
    file_size: int
    id: str


class ChannelPort(Protocol):
    async def send(
        self,
        phone_number_id: str,
        access_token: str,
        to: str,
        message: Sendable,
        *,
        biz_opaque_callback_data: str,
        context_message_id: str | None = None,
    ) -> SentMessage: ...

    async def mark_read(
        self, phone_number_id: str, access_token: str, message_id: str, *, typing: bool = False
    ) -> None:
        """Blue ticks on `message_id`; `typing` also shows the typing indicator (up to 25 s)."""
        ...

    async def upload_media(
        self, phone_number_id: str, access_token: str, data: bytes, mime_type: str, filename: str
    ) -> str:
        """Upload a file to send later; returns the media id (valid for 30 days)."""
        ...

    async def get_media(self, media_id: str, access_token: str, phone_number_id: str | None = None) -> MediaInfo: ...

    async def download_media(self, url: str, access_token: str) -> bytes: ...

    async def delete_media(self, media_id: str, access_token: str, phone_number_id: str | None = None) -> None: ...
