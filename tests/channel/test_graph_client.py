"""GraphClient against a local stand-in for the Graph API that records every request.

The stand-in answers with the shapes documented in docs/reference (whatsapp-cloud-api.md sections 2
and 3): written here from those descriptions, not copied from any other project.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import cast

import orjson
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from loket.channel.errors import (
    Action,
    GraphAuthError,
    GraphBadResponse,
    GraphConnectionError,
    GraphRateLimited,
    GraphRecipientError,
    GraphReengagementRequired,
    GraphRequestError,
    GraphTimeout,
    GraphTransientError,
    InvalidOutgoingMessage,
    MediaTooLarge,
    UnsafeMediaUrl,
    WaitScope,
    classify,
)
from loket.channel.graph import GraphClient
from loket.channel.outgoing import ReplyButton, ReplyButtons, Template, Text, TextParam, build_send_body
from loket.channel.port import MediaInfo, SentMessage

API = "/sandbox/v23.0"
PNID = "106540352242922"
CUSTOMER = "6281234567890"
TOKEN_A = "EAAG-tenant-a-SECRET-token"
TOKEN_B = "EAAG-tenant-b-SECRET-token"
PDF = b"%PDF-1.4\n" + bytes(range(256)) * 8

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass
class Recorded:
    method: str
    path: str
    raw_path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes = b""
    form: dict[str, object] = field(default_factory=dict)

    def json(self) -> object:
        return orjson.loads(self.body)


def error_envelope(code: int, message: str = "error", details: str = "details") -> dict[str, object]:
    return {
        "error": {
            "message": f"(#{code}) {message}",
            "type": "OAuthException",
            "code": code,
            "error_data": {"messaging_product": "whatsapp", "details": details},
            "fbtrace_id": f"trace-{code}",
        }
    }


class FakeGraph:
    """Answers like the Cloud API; `script()` overrides the next answer, `delay` stalls every request."""

    def __init__(self) -> None:
        self.requests: list[Recorded] = []
        self.scripted: list[web.Response] = []
        self.media: dict[str, tuple[bytes, str]] = {}
        self.delay = 0.0
        self.arrived = asyncio.Event()
        self.release = asyncio.Event()
        self._ids = 0
        self.server = TestServer(self._app(), host="127.0.0.1")

    @property
    def base_url(self) -> str:
        return str(self.server.make_url(API))

    def url(self, path: str) -> str:
        return str(self.server.make_url(path))

    def script(self, status: int, body: object, *, headers: dict[str, str] | None = None, raw: bool = False) -> None:
        payload = body if isinstance(body, bytes) else orjson.dumps(body)
        content_type = "text/html" if raw else "application/json"
        self.scripted.append(web.Response(status=status, body=payload, headers=headers, content_type=content_type))

    def _next_id(self) -> int:
        self._ids += 1
        return self._ids

    def _app(self) -> web.Application:
        app = web.Application(middlewares=[self._record])
        app.router.add_post(API + "/{pnid}/messages", self._messages)
        app.router.add_post(API + "/{pnid}/media", self._upload)
        app.router.add_get(API + "/{media_id}", self._get_media)
        app.router.add_delete(API + "/{media_id}", self._delete_media)
        app.router.add_get("/lookaside/{media_id}", self._download)
        app.router.add_get("/chunked/{media_id}", self._download_chunked)
        app.router.add_get("/moved/{media_id}", self._moved)
        return app

    @web.middleware
    async def _record(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        record = Recorded(
            method=request.method,
            path=request.path,
            raw_path=request.raw_path,
            query=dict(request.query),
            headers=dict(request.headers),
        )
        if request.content_type == "multipart/form-data":
            form = await request.post()
            for name, value in form.items():
                if isinstance(value, web.FileField):
                    record.form[name] = (value.filename, value.content_type, value.file.read())
                else:
                    record.form[name] = value
        else:
            record.body = await request.read()
        self.requests.append(record)
        self.arrived.set()
        if self.delay:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.release.wait(), self.delay)
        if self.scripted:
            return self.scripted.pop(0)
        return await handler(request)

    async def _messages(self, request: web.Request) -> web.Response:
        body = orjson.loads(await request.read())
        if body.get("status") == "read":
            return web.json_response({"success": True})
        return web.json_response(
            {
                "messaging_product": "whatsapp",
                "contacts": [{"input": body["to"], "wa_id": body["to"].lstrip("+")}],
                "messages": [{"id": f"wamid.{self._next_id()}", "message_status": "accepted"}],
            }
        )

    async def _upload(self, request: web.Request) -> web.Response:
        _, mime_type, data = cast(tuple[str, str, bytes], self.requests[-1].form["file"])
        media_id = str(900_000 + self._next_id())
        self.media[media_id] = (data, mime_type)
        return web.json_response({"id": media_id})

    async def _get_media(self, request: web.Request) -> web.Response:
        media_id = request.match_info["media_id"]
        if media_id not in self.media:
            return web.json_response(error_envelope(100, "Unsupported get request"), status=400)
        data, mime_type = self.media[media_id]
        return web.json_response(
            {
                "messaging_product": "whatsapp",
                "url": self.url(f"/lookaside/{media_id}"),
                "mime_type": mime_type,
                "sha256": hashlib.sha256(data).hexdigest(),
                "file_size": str(len(data)),  # Meta sends it as a string
                "id": media_id,
            }
        )

    async def _delete_media(self, request: web.Request) -> web.Response:
        self.media.pop(request.match_info["media_id"], None)
        return web.json_response({"success": True})

    def _stored(self, request: web.Request) -> tuple[bytes, str]:
        if not request.headers.get("Authorization", "").startswith("Bearer "):
            raise web.HTTPUnauthorized()
        return self.media[request.match_info["media_id"]]

    async def _download(self, request: web.Request) -> web.Response:
        data, mime_type = self._stored(request)
        return web.Response(body=data, content_type=mime_type)

    async def _download_chunked(self, request: web.Request) -> web.StreamResponse:
        data, mime_type = self._stored(request)
        response = web.StreamResponse(headers={"Content-Type": mime_type})
        response.enable_chunked_encoding()
        await response.prepare(request)
        for start in range(0, len(data), 100):
            await response.write(data[start : start + 100])
        await response.write_eof()
        return response

    async def _moved(self, request: web.Request) -> web.Response:
        raise web.HTTPFound(location=f"/lookaside/{request.match_info['media_id']}")


@pytest.fixture
async def meta() -> AsyncIterator[FakeGraph]:
    fake = FakeGraph()
    await fake.server.start_server()
    yield fake
    fake.release.set()
    await fake.server.close()


@pytest.fixture
async def graph(meta: FakeGraph) -> AsyncIterator[GraphClient]:
    async with GraphClient(meta.base_url, timeout=3.0) as client:
        yield client


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


async def send_text(client: GraphClient, token: str = TOKEN_A, body: str = "Halo") -> SentMessage:
    return await client.send(PNID, token, CUSTOMER, Text(body), biz_opaque_callback_data="outbox:1")


# --- sending --------------------------------------------------------------------------------------


async def test_send_text_request_and_answer(meta: FakeGraph, graph: GraphClient) -> None:
    sent = await graph.send(
        PNID,
        TOKEN_A,
        CUSTOMER,
        Text("Saldo Anda sudah kami kirim."),
        biz_opaque_callback_data="outbox:7f3a",
        context_message_id="wamid.IN1",
    )
    assert sent == SentMessage(wamid="wamid.1", wa_id=CUSTOMER, message_status="accepted")
    [request] = meta.requests
    assert (request.method, request.path) == ("POST", f"{API}/{PNID}/messages")
    assert request.headers["Authorization"] == f"Bearer {TOKEN_A}"
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers["User-Agent"].startswith("Loket/")
    assert request.json() == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": CUSTOMER,
        "type": "text",
        "text": {"body": "Saldo Anda sudah kami kirim.", "preview_url": False},
        "biz_opaque_callback_data": "outbox:7f3a",
        "context": {"message_id": "wamid.IN1"},
    }


async def test_interactive_and_template_bodies_are_the_builders(meta: FakeGraph, graph: GraphClient) -> None:
    buttons = ReplyButtons(body="Blokir kartu?", buttons=(ReplyButton("yes", "Ya"), ReplyButton("no", "Tidak")))
    template = Template("tagihan_jatuh_tempo", "id", body=(TextParam("Budi"),))
    for message in (buttons, template):
        await graph.send(PNID, TOKEN_A, CUSTOMER, message, biz_opaque_callback_data="outbox:2")
    assert [request.json() for request in meta.requests] == [
        build_send_body(CUSTOMER, buttons, biz_opaque_callback_data="outbox:2"),
        build_send_body(CUSTOMER, template, biz_opaque_callback_data="outbox:2"),
    ]


async def test_each_call_carries_its_tenants_token(meta: FakeGraph, graph: GraphClient) -> None:
    await asyncio.gather(send_text(graph, TOKEN_A), send_text(graph, TOKEN_B), send_text(graph, TOKEN_A))
    tokens = sorted(request.headers["Authorization"] for request in meta.requests)
    assert tokens == [f"Bearer {TOKEN_A}", f"Bearer {TOKEN_A}", f"Bearer {TOKEN_B}"]


async def test_invalid_message_is_refused_before_sending(meta: FakeGraph, graph: GraphClient) -> None:
    with pytest.raises(InvalidOutgoingMessage) as caught:
        await send_text(graph, body="")
    assert caught.value.field_path == "body"
    with pytest.raises(InvalidOutgoingMessage) as caught:
        await graph.send(" ", TOKEN_A, CUSTOMER, Text("hi"), biz_opaque_callback_data="t")
    assert caught.value.field_path == "phone_number_id"
    assert meta.requests == []


async def test_sixty_four_sends_at_once(meta: FakeGraph, graph: GraphClient) -> None:
    sent = await asyncio.gather(*(send_text(graph) for _ in range(64)))
    assert len({message.wamid for message in sent}) == 64
    assert len(meta.requests) == 64


# --- Meta's errors --------------------------------------------------------------------------------


async def test_reengagement_error(meta: FakeGraph, graph: GraphClient) -> None:
    meta.script(400, error_envelope(131047, "Re-engagement message", "more than 24 hours"))
    with pytest.raises(GraphReengagementRequired) as caught:
        await send_text(graph)
    error = caught.value
    assert (error.http_status, error.code, error.fbtrace_id) == (400, 131047, "trace-131047")
    assert error.details == "more than 24 hours"
    assert classify(error) is Action.USE_TEMPLATE


@pytest.mark.parametrize(("status", "retry_after", "expected_delay"), [(429, "3", 3.0), (400, None, 1.0)])
async def test_throughput_limit(
    meta: FakeGraph, graph: GraphClient, status: int, retry_after: str | None, expected_delay: float
) -> None:
    headers = {"Retry-After": retry_after} if retry_after else None
    meta.script(status, error_envelope(130429, "Rate limit hit"), headers=headers)
    with pytest.raises(GraphRateLimited) as caught:
        await send_text(graph)
    assert caught.value.action is Action.WAIT
    assert caught.value.scope is WaitScope.PHONE_NUMBER
    assert caught.value.retry_after == expected_delay


async def test_pair_rate_limit_reschedules_the_recipient(meta: FakeGraph, graph: GraphClient) -> None:
    meta.script(400, error_envelope(131056))
    with pytest.raises(GraphRateLimited) as caught:
        await send_text(graph)
    assert caught.value.scope is WaitScope.RECIPIENT


@pytest.mark.parametrize("status", [500, 502, 503])
async def test_html_error_page_is_retryable(meta: FakeGraph, graph: GraphClient, status: int) -> None:
    meta.script(status, b"<html><body><h1>Bad Gateway</h1></body></html>", raw=True)
    with pytest.raises(GraphTransientError) as caught:
        await send_text(graph)
    assert (caught.value.http_status, caught.value.code) == (status, None)
    assert classify(caught.value) is Action.RETRY


async def test_unreadable_success_on_a_send_must_be_reconciled(meta: FakeGraph, graph: GraphClient) -> None:
    meta.script(200, b"<html>OK</html>", raw=True)
    meta.script(200, {"messaging_product": "whatsapp", "messages": []})
    for _ in range(2):
        with pytest.raises(GraphBadResponse) as caught:
            await send_text(graph)
        assert classify(caught.value) is Action.RECONCILE


# --- no answer ------------------------------------------------------------------------------------


async def test_timeout_after_sending_is_an_unknown_outcome(meta: FakeGraph) -> None:
    meta.delay = 10.0
    async with GraphClient(meta.base_url, timeout=0.8) as client:
        with pytest.raises(GraphTimeout) as caught:
            await send_text(client)
    assert caught.value.request_sent
    assert classify(caught.value) is Action.RECONCILE
    assert len(meta.requests) == 1  # it did reach the server


async def test_timeout_on_a_read_is_plainly_retryable(meta: FakeGraph) -> None:
    meta.delay = 10.0
    async with GraphClient(meta.base_url, timeout=0.8) as client:
        with pytest.raises(GraphTimeout) as caught:
            await client.get_media("123", TOKEN_A)
    assert caught.value.request_sent
    assert classify(caught.value) is Action.RETRY


async def test_refused_connection_is_retryable() -> None:
    async with GraphClient(f"http://127.0.0.1:{closed_port()}{API}", timeout=2.0) as client:
        with pytest.raises(GraphConnectionError) as caught:
            await send_text(client)
    assert not caught.value.request_sent
    assert classify(caught.value) is Action.RETRY


async def test_timeout_while_queued_for_a_connection_was_never_sent(meta: FakeGraph) -> None:
    meta.delay = 10.0
    async with GraphClient(meta.base_url, timeout=0.8, max_connections=1) as client:
        first = asyncio.create_task(send_text(client))
        await meta.arrived.wait()
        with pytest.raises(GraphTimeout) as queued:
            await send_text(client)
        with pytest.raises(GraphTimeout) as in_flight:
            await first
    assert in_flight.value.request_sent
    assert classify(in_flight.value) is Action.RECONCILE
    # Both calls share one deadline length, so the queued one may get the freed connection just before
    # its own deadline; whichever way the race goes, the classification must match what happened.
    if queued.value.request_sent:
        assert classify(queued.value) is Action.RECONCILE
        assert len(meta.requests) == 2
    else:
        assert classify(queued.value) is Action.RETRY
        assert len(meta.requests) == 1


# --- read receipts --------------------------------------------------------------------------------


async def test_mark_read_and_typing(meta: FakeGraph, graph: GraphClient) -> None:
    await graph.mark_read(PNID, TOKEN_A, "wamid.IN1")
    await graph.mark_read(PNID, TOKEN_A, "wamid.IN2", typing=True)
    assert [(request.method, request.path) for request in meta.requests] == [("POST", f"{API}/{PNID}/messages")] * 2
    assert [request.json() for request in meta.requests] == [
        {"messaging_product": "whatsapp", "status": "read", "message_id": "wamid.IN1"},
        {
            "messaging_product": "whatsapp",
            "status": "read",
            "message_id": "wamid.IN2",
            "typing_indicator": {"type": "text"},
        },
    ]


async def test_mark_read_refused(meta: FakeGraph, graph: GraphClient) -> None:
    meta.script(200, {"success": False})
    with pytest.raises(GraphBadResponse):
        await graph.mark_read(PNID, TOKEN_A, "wamid.IN1")


# --- media ----------------------------------------------------------------------------------------


async def test_media_round_trip(meta: FakeGraph, graph: GraphClient) -> None:
    media_id = await graph.upload_media(PNID, TOKEN_A, PDF, "application/pdf", "mutasi-oktober.pdf")
    upload = meta.requests[-1]
    assert (upload.method, upload.path) == ("POST", f"{API}/{PNID}/media")
    assert upload.headers["Authorization"] == f"Bearer {TOKEN_A}"
    assert upload.headers["Content-Type"].startswith("multipart/form-data")
    assert upload.form == {
        "messaging_product": "whatsapp",
        "type": "application/pdf",
        "file": ("mutasi-oktober.pdf", "application/pdf", PDF),
    }

    info = await graph.get_media(media_id, TOKEN_A, phone_number_id=PNID)
    assert info == MediaInfo(
        url=meta.url(f"/lookaside/{media_id}"),
        mime_type="application/pdf",
        sha256=hashlib.sha256(PDF).hexdigest(),
        file_size=len(PDF),
        id=media_id,
    )
    lookup = meta.requests[-1]
    assert (lookup.method, lookup.path, lookup.query) == ("GET", f"{API}/{media_id}", {"phone_number_id": PNID})

    assert await graph.download_media(info.url, TOKEN_B) == PDF
    assert meta.requests[-1].headers["Authorization"] == f"Bearer {TOKEN_B}"

    await graph.delete_media(media_id, TOKEN_A, phone_number_id=PNID)
    delete = meta.requests[-1]
    assert (delete.method, delete.path, delete.query) == ("DELETE", f"{API}/{media_id}", {"phone_number_id": PNID})
    assert media_id not in meta.media


async def test_get_media_without_phone_number_sends_no_query(meta: FakeGraph, graph: GraphClient) -> None:
    meta.media["42"] = (b"\x89PNG", "image/png")
    info = await graph.get_media("42", TOKEN_A)
    assert info.file_size == 4
    assert meta.requests[-1].query == {}


async def test_unknown_media_id(meta: FakeGraph, graph: GraphClient) -> None:
    with pytest.raises(GraphRequestError) as caught:
        await graph.get_media("404404", TOKEN_A)
    assert (caught.value.code, caught.value.action) == (100, Action.GIVE_UP)


async def test_ids_are_quoted_into_one_path_segment(meta: FakeGraph, graph: GraphClient) -> None:
    with pytest.raises(GraphRequestError):
        await graph.get_media("../me?fields=x", TOKEN_A)
    assert meta.requests[-1].raw_path.startswith(f"{API}/..%2Fme%3Ffields")
    assert meta.requests[-1].query == {}


async def test_upload_refuses_what_whatsapp_would(meta: FakeGraph, graph: GraphClient) -> None:
    with pytest.raises(InvalidOutgoingMessage) as caught:
        await graph.upload_media(PNID, TOKEN_A, b"PK", "application/zip", "a.zip")
    assert caught.value.field_path == "mime_type"
    with pytest.raises(InvalidOutgoingMessage) as caught:
        await graph.upload_media(PNID, TOKEN_A, b"x" * (500 * 1024 + 1), "image/webp", "s.webp")
    assert caught.value.field_path == "data"
    with pytest.raises(InvalidOutgoingMessage) as caught:
        await graph.upload_media(PNID, TOKEN_A, b"", "image/png", "a.png")
    assert caught.value.field_path == "data"
    assert meta.requests == []


async def test_download_follows_a_same_origin_redirect(meta: FakeGraph, graph: GraphClient) -> None:
    meta.media["7"] = (PDF, "application/pdf")
    assert await graph.download_media(meta.url("/moved/7"), TOKEN_A) == PDF
    assert [request.path for request in meta.requests] == ["/moved/7", "/lookaside/7"]
    assert meta.requests[-1].headers["Authorization"] == f"Bearer {TOKEN_A}"


@pytest.mark.parametrize("route", ["lookaside", "chunked"])
async def test_download_is_capped(meta: FakeGraph, route: str) -> None:
    meta.media["8"] = (PDF, "application/pdf")
    async with GraphClient(meta.base_url, max_download_bytes=len(PDF) - 1) as client:
        with pytest.raises(MediaTooLarge):
            await client.download_media(meta.url(f"/{route}/8"), TOKEN_A)
    async with GraphClient(meta.base_url, max_download_bytes=len(PDF)) as client:
        assert await client.download_media(meta.url(f"/{route}/8"), TOKEN_A) == PDF


async def test_expired_media_url(meta: FakeGraph, graph: GraphClient) -> None:
    meta.script(404, {"error": {"message": "URL expired", "code": 100, "fbtrace_id": "t"}})
    with pytest.raises(GraphRequestError):
        await graph.download_media(meta.url("/lookaside/1"), TOKEN_A)


async def test_token_never_goes_to_an_unsafe_url() -> None:
    async with GraphClient("https://graph.example/v23.0") as client:
        for url in ("http://lookaside.example/x", "file:///etc/passwd", "lookaside.example/x"):
            with pytest.raises(UnsafeMediaUrl):
                await client.download_media(url, TOKEN_A)


# --- hygiene --------------------------------------------------------------------------------------


async def test_logs_hold_no_token_recipient_or_body(meta: FakeGraph, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    body = "Kode OTP rahasia 918273"
    async with GraphClient(meta.base_url, timeout=0.8) as client:
        await send_text(client, body=body)
        meta.script(400, error_envelope(131026, details=f"Recipient {CUSTOMER} is not on WhatsApp"))
        with pytest.raises(GraphRecipientError):
            await send_text(client, body=body)
        meta.script(401, error_envelope(190, "Invalid OAuth access token"))
        with pytest.raises(GraphAuthError):
            await send_text(client, body=body)
        meta.delay = 10.0
        with pytest.raises(GraphTimeout):
            await send_text(client, body=body)
    logged = caplog.text
    assert "wamid.1" in logged and "131026" in logged and "trace-190" in logged
    for secret in ("SECRET", body, CUSTOMER, "918273"):
        assert secret not in logged
    assert any(record.levelno == logging.WARNING for record in caplog.records)  # 190 needs an operator


async def test_client_lifecycle(meta: FakeGraph) -> None:
    client = GraphClient(meta.base_url)
    await client.close()  # closing an unused client is fine
    with pytest.raises(RuntimeError):
        await send_text(client)
    async with GraphClient(meta.base_url) as used:
        await send_text(used)
    with pytest.raises(RuntimeError):
        await send_text(used)
    with pytest.raises(ValueError, match="base_url"):
        GraphClient("graph.example.test/v23.0")
