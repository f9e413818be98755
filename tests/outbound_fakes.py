"""A scripted stand-in for the Graph API client, shared by the outbound and events tests."""

from __future__ import annotations

from typing import Any

from loket.channel.errors import parse_graph_error
from loket.channel.outgoing import Sendable
from loket.channel.port import MediaInfo, SentMessage


class ScriptedChannel:
    """Answers each send with the next scripted outcome: a wamid, or an exception to raise."""

    def __init__(self, outcomes: list[Any] | None = None) -> None:
        self.outcomes = outcomes or []
        self.sent: list[dict[str, Any]] = []

    async def send(
        self,
        phone_number_id: str,
        access_token: str,
        to: str,
        message: Sendable,
        *,
        biz_opaque_callback_data: str,
        context_message_id: str | None = None,
    ) -> SentMessage:
        outcome = self.outcomes.pop(0) if self.outcomes else f"wamid.{len(self.sent)}"
        self.sent.append(
            {"to": to, "payload": message.to_payload(), "callback": biz_opaque_callback_data, "token": access_token}
        )
        if isinstance(outcome, BaseException):
            raise outcome
        return SentMessage(wamid=str(outcome), wa_id=to, message_status="accepted")

    async def mark_read(
        self, phone_number_id: str, access_token: str, message_id: str, *, typing: bool = False
    ) -> None:
        return None

    async def upload_media(self, *args: Any) -> str:
        raise NotImplementedError

    async def get_media(self, *args: Any) -> MediaInfo:
        raise NotImplementedError

    async def download_media(self, *args: Any) -> bytes:
        raise NotImplementedError

    async def delete_media(self, *args: Any) -> None:
        raise NotImplementedError


def graph_error(status: int, code: int) -> Exception:
    body = f'{{"error":{{"message":"(#{code}) x","type":"OAuthException","code":{code},"fbtrace_id":"T"}}}}'
    return parse_graph_error(status, body.encode())
