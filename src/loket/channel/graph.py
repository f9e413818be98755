"""GraphClient: ChannelPort over the Graph API, on one shared aiohttp session for every tenant.

The base URL carries the version (`https://graph.facebook.com/v23.0`, or the sandbox's). Tokens
differ per tenant, so each call brings its own. Logs carry operations, ids and codes only: never a
token, a recipient or a message body.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from types import SimpleNamespace, TracebackType
from typing import TYPE_CHECKING, Self
from urllib.parse import quote, urlsplit

import aiohttp
import orjson

from loket import __version__
from loket.channel.errors import (
    Action,
    GraphBadResponse,
    GraphConnectionError,
    GraphError,
    GraphTimeout,
    GraphTransportError,
    InvalidOutgoingMessage,
    MediaTooLarge,
    UnsafeMediaUrl,
    parse_graph_error,
    parse_retry_after,
)
from loket.channel.limits import MEDIA_MAX_BYTES, MEDIA_MIME_TYPES
from loket.channel.outgoing import JSONObject, Sendable, build_send_body, message_kind
from loket.channel.port import MediaInfo, SentMessage

if TYPE_CHECKING:
    from loket.channel.port import ChannelPort

logger = logging.getLogger(__name__)

_USER_AGENT = f"Loket/{__version__}"
_ERROR_BODY_MAX = 64 * 1024
_CHUNK = 64 * 1024
_MEDIA_KIND_BY_MIME: dict[str, str] = {mime: kind for kind, mimes in MEDIA_MIME_TYPES.items() for mime in mimes}


class _Progress:
    """Per-request flag set once aiohttp starts writing the request on an open connection."""

    __slots__ = ("sent",)

    def __init__(self) -> None:
        self.sent = False


async def _on_headers_sent(
    session: aiohttp.ClientSession,
    context: SimpleNamespace,
    params: aiohttp.TraceRequestHeadersSentParams,
) -> None:
    progress = getattr(context, "trace_request_ctx", None)
    if isinstance(progress, _Progress):
        progress.sent = True


class GraphClient:
    def __init__(
        self,
        base_url: str,
        *,
        timeout: float = 15.0,
        connect_timeout: float = 5.0,
        media_timeout: float = 120.0,
        max_connections: int = 64,
        max_download_bytes: int = max(MEDIA_MAX_BYTES.values()),
        trust_env: bool = False,
    ) -> None:
        """`timeout` bounds a whole API call (queueing for a pooled connection included);
        `media_timeout` does the same for uploads and downloads. `trust_env` honours HTTPS_PROXY."""
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError("base_url must be an absolute http(s) URL, e.g. https://graph.facebook.com/v23.0")
        self._base = base_url.rstrip("/")
        # A token must not travel in clear text to a media URL when the API itself is on https.
        self._https_only = parts.scheme == "https"
        self._timeout = aiohttp.ClientTimeout(total=timeout, sock_connect=connect_timeout)
        self._media_timeout = aiohttp.ClientTimeout(total=media_timeout, sock_connect=connect_timeout)
        self._max_connections = max_connections
        self._max_download_bytes = max_download_bytes
        self._trust_env = trust_env
        self._http: aiohttp.ClientSession | None = None
        self._closed = False

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self) -> None:
        self._closed = True
        if self._http is not None:
            http, self._http = self._http, None
            await http.close()

    # --- ChannelPort ------------------------------------------------------------------------------

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
        body = build_send_body(
            to, message, biz_opaque_callback_data=biz_opaque_callback_data, context_message_id=context_message_id
        )
        answer = await self._call_json(
            "send",
            "POST",
            self._url(("phone_number_id", phone_number_id), "messages"),
            access_token,
            log_id=phone_number_id,
            json_body=body,
            safe_to_repeat=False,
        )
        sent = _sent_message(answer)
        logger.debug(
            "graph send accepted: phone_number_id=%s kind=%s wamid=%s status=%s",
            phone_number_id,
            message_kind(message),
            sent.wamid,
            sent.message_status,
        )
        return sent

    async def mark_read(
        self, phone_number_id: str, access_token: str, message_id: str, *, typing: bool = False
    ) -> None:
        if not message_id.strip():
            raise InvalidOutgoingMessage("message_id", "must not be empty")
        body: JSONObject = {"messaging_product": "whatsapp", "status": "read", "message_id": message_id}
        if typing:
            body["typing_indicator"] = {"type": "text"}
        answer = await self._call_json(
            "mark_read",
            "POST",
            self._url(("phone_number_id", phone_number_id), "messages"),
            access_token,
            log_id=phone_number_id,
            json_body=body,
            safe_to_repeat=True,
        )
        _expect_success(answer, "mark_read")

    async def upload_media(
        self, phone_number_id: str, access_token: str, data: bytes, mime_type: str, filename: str
    ) -> str:
        kind = _MEDIA_KIND_BY_MIME.get(mime_type.split(";", 1)[0].strip().lower())
        if kind is None:
            raise InvalidOutgoingMessage("mime_type", "is not a media type WhatsApp accepts")
        if not data:
            raise InvalidOutgoingMessage("data", "must not be empty")
        limit = MEDIA_MAX_BYTES[kind]
        if len(data) > limit:
            raise InvalidOutgoingMessage("data", f"has {len(data)} bytes; the {kind} limit is {limit}")
        if not filename.strip():
            raise InvalidOutgoingMessage("filename", "must not be empty")
        form = aiohttp.FormData()
        form.add_field("messaging_product", "whatsapp")
        form.add_field("type", mime_type)
        form.add_field("file", data, filename=filename, content_type=mime_type)
        answer = await self._call_json(
            "upload_media",
            "POST",
            self._url(("phone_number_id", phone_number_id), "media"),
            access_token,
            log_id=phone_number_id,
            form=form,
            media=True,
            # A repeated upload only leaves an unused copy that expires.
            safe_to_repeat=True,
        )
        media_id = answer.get("id")
        if not isinstance(media_id, str) or not media_id:
            raise _bad_response("upload_media", safe_to_repeat=True)
        return media_id

    async def get_media(self, media_id: str, access_token: str, phone_number_id: str | None = None) -> MediaInfo:
        answer = await self._call_json(
            "get_media",
            "GET",
            self._url(("media_id", media_id)),
            access_token,
            log_id=media_id,
            params=_phone_number_param(phone_number_id),
            safe_to_repeat=True,
        )
        url, mime_type, sha256, returned_id = (
            answer.get("url"),
            answer.get("mime_type"),
            answer.get("sha256"),
            answer.get("id", media_id),
        )
        file_size = _size(answer.get("file_size"))
        if not (
            isinstance(url, str)
            and isinstance(mime_type, str)
            and isinstance(sha256, str)
            and isinstance(returned_id, str)
            and file_size is not None
        ):
            raise _bad_response("get_media", safe_to_repeat=True)
        return MediaInfo(url=url, mime_type=mime_type, sha256=sha256, file_size=file_size, id=returned_id)

    async def download_media(self, url: str, access_token: str) -> bytes:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise UnsafeMediaUrl("a media URL must be an absolute http(s) URL")
        if self._https_only and parts.scheme != "https":
            raise UnsafeMediaUrl("a media URL must use https when the Graph API does")
        # aiohttp drops the Authorization header when a redirect leaves the origin.
        return await self._request(
            "download_media",
            "GET",
            url,
            access_token,
            log_id=parts.netloc,
            media=True,
            body_limit=self._max_download_bytes,
            allow_redirects=True,
            safe_to_repeat=True,
        )

    async def delete_media(self, media_id: str, access_token: str, phone_number_id: str | None = None) -> None:
        answer = await self._call_json(
            "delete_media",
            "DELETE",
            self._url(("media_id", media_id)),
            access_token,
            log_id=media_id,
            params=_phone_number_param(phone_number_id),
            safe_to_repeat=True,
        )
        _expect_success(answer, "delete_media")

    # --- plumbing ---------------------------------------------------------------------------------

    def _session(self) -> aiohttp.ClientSession:
        if self._closed:
            raise RuntimeError("GraphClient is closed")
        if self._http is None:
            tracing = aiohttp.TraceConfig()
            tracing.on_request_headers_sent.append(_on_headers_sent)
            connector = aiohttp.TCPConnector(
                limit=self._max_connections, limit_per_host=self._max_connections, ttl_dns_cache=300
            )
            self._http = aiohttp.ClientSession(
                connector=connector,
                timeout=self._timeout,
                headers={"User-Agent": _USER_AGENT},
                trace_configs=[tracing],
                trust_env=self._trust_env,
            )
        return self._http

    def _url(self, *segments: str | tuple[str, str]) -> str:
        """Join path segments; `(name, value)` pairs are caller-supplied ids, checked and quoted."""
        parts: list[str] = [self._base]
        for segment in segments:
            if isinstance(segment, tuple):
                name, value = segment
                if not value.strip():
                    raise InvalidOutgoingMessage(name, "must not be empty")
                parts.append(quote(value, safe=""))
            else:
                parts.append(segment)
        return "/".join(parts)

    async def _call_json(
        self,
        operation: str,
        method: str,
        url: str,
        access_token: str,
        *,
        log_id: str,
        safe_to_repeat: bool,
        json_body: JSONObject | None = None,
        form: aiohttp.FormData | None = None,
        params: Mapping[str, str] | None = None,
        media: bool = False,
    ) -> JSONObject:
        raw = await self._request(
            operation,
            method,
            url,
            access_token,
            log_id=log_id,
            safe_to_repeat=safe_to_repeat,
            json_body=json_body,
            form=form,
            params=params,
            media=media,
        )
        try:
            decoded = orjson.loads(raw)
        except orjson.JSONDecodeError:
            decoded = None
        if not isinstance(decoded, dict):
            raise _bad_response(operation, safe_to_repeat=safe_to_repeat)
        answer: JSONObject = decoded
        return answer

    async def _request(
        self,
        operation: str,
        method: str,
        url: str,
        access_token: str,
        *,
        log_id: str,
        safe_to_repeat: bool,
        json_body: JSONObject | None = None,
        form: aiohttp.FormData | None = None,
        params: Mapping[str, str] | None = None,
        media: bool = False,
        body_limit: int | None = None,
        allow_redirects: bool = False,
    ) -> bytes:
        session = self._session()
        headers = {"Authorization": f"Bearer {access_token}"}
        data: bytes | aiohttp.FormData | None = form
        if json_body is not None:
            data = orjson.dumps(json_body)
            headers["Content-Type"] = "application/json"
        progress = _Progress()
        try:
            async with session.request(
                method,
                url,
                data=data,
                params=params,
                headers=headers,
                timeout=self._media_timeout if media else self._timeout,
                allow_redirects=allow_redirects,
                trace_request_ctx=progress,
            ) as response:
                status = response.status
                if 200 <= status < 300:
                    raw = await _read_limited(response, body_limit)
                else:
                    raw = await _read_head(response, _ERROR_BODY_MAX)
                retry_after = parse_retry_after(response.headers.get("Retry-After"))
        except TimeoutError as exc:
            failure: GraphTransportError = GraphTimeout(
                progress.sent, operation=operation, safe_to_repeat=safe_to_repeat
            )
            _log_transport(failure, log_id)
            raise failure from exc
        except aiohttp.ClientError as exc:
            failure = GraphConnectionError(progress.sent, operation=operation, safe_to_repeat=safe_to_repeat)
            _log_transport(failure, log_id)
            raise failure from exc
        if not 200 <= status < 300:
            error = parse_graph_error(status, raw, retry_after=retry_after, safe_to_repeat=safe_to_repeat)
            _log_error(operation, log_id, error)
            raise error
        return raw


async def _read_limited(response: aiohttp.ClientResponse, limit: int | None) -> bytes:
    if limit is None:
        return await response.read()
    if response.content_length is not None and response.content_length > limit:
        raise MediaTooLarge(limit)
    buffer = bytearray()
    async for chunk in response.content.iter_chunked(_CHUNK):
        buffer += chunk
        if len(buffer) > limit:
            raise MediaTooLarge(limit)
    return bytes(buffer)


async def _read_head(response: aiohttp.ClientResponse, limit: int) -> bytes:
    """At most `limit` bytes of an error body: enough for Meta's envelope, not for a runaway page."""
    buffer = bytearray()
    while len(buffer) < limit:
        chunk = await response.content.read(limit - len(buffer))
        if not chunk:
            break
        buffer += chunk
    return bytes(buffer)


def _phone_number_param(phone_number_id: str | None) -> dict[str, str] | None:
    return None if phone_number_id is None else {"phone_number_id": phone_number_id}


def _size(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None


def _bad_response(operation: str, *, safe_to_repeat: bool) -> GraphBadResponse:
    # A 2xx we cannot read: for a send, Meta may well have accepted the message.
    action = Action.RETRY if safe_to_repeat else Action.RECONCILE
    logger.warning("graph %s: unexpected 2xx body, action=%s", operation, action.value)
    return GraphBadResponse(http_status=200, code=None, action=action)


def _expect_success(answer: JSONObject, operation: str) -> None:
    if answer.get("success") is False:
        raise _bad_response(operation, safe_to_repeat=True)


def _sent_message(answer: JSONObject) -> SentMessage:
    messages = answer.get("messages")
    first = messages[0] if isinstance(messages, list) and messages else None
    wamid = first.get("id") if isinstance(first, dict) else None
    if not isinstance(wamid, str) or not wamid:
        raise _bad_response("send", safe_to_repeat=False)
    status = first.get("message_status") if isinstance(first, dict) else None
    contacts = answer.get("contacts")
    contact = contacts[0] if isinstance(contacts, list) and contacts else None
    wa_id = contact.get("wa_id") if isinstance(contact, dict) else None
    return SentMessage(
        wamid=wamid,
        wa_id=wa_id if isinstance(wa_id, str) else None,
        message_status=status if isinstance(status, str) else None,
    )


def _log_error(operation: str, log_id: str, error: GraphError) -> None:
    logger.log(
        logging.WARNING if error.needs_operator else logging.INFO,
        "graph %s failed: id=%s http_status=%d code=%s subcode=%s fbtrace_id=%s action=%s",
        operation,
        log_id,
        error.http_status,
        error.code,
        error.subcode,
        error.fbtrace_id,
        error.action.value,
    )


def _log_transport(failure: GraphTransportError, log_id: str) -> None:
    logger.info(
        "graph %s got no answer: id=%s error=%s request_sent=%s action=%s",
        failure.operation,
        log_id,
        type(failure).__name__,
        failure.request_sent,
        failure.action.value,
    )


if TYPE_CHECKING:

    def _implements_port(client: GraphClient) -> ChannelPort:
        return client
