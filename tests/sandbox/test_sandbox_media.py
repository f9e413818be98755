"""Media: upload, look-up, short-lived download URLs, deletion and expiry, all on the fake clock."""

from __future__ import annotations

import hashlib
from typing import Any

import aiohttp
from sandbox_harness import CUSTOMER, PNID, TOKEN, Receiver, Sandbox, open_window

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 200


async def _upload(
    sandbox: Sandbox, data: bytes, mime: str, filename: str = "file.bin", *, product: str | None = "whatsapp"
) -> tuple[int, Any]:
    form = aiohttp.FormData()
    if product is not None:
        form.add_field("messaging_product", product)
    form.add_field("type", mime)
    form.add_field("file", data, filename=filename, content_type=mime)
    async with sandbox.http.post(
        f"{sandbox.base}/v23.0/{PNID}/media", data=form, headers={"Authorization": f"Bearer {TOKEN}"}
    ) as response:
        return response.status, await response.json()


async def _download(sandbox: Sandbox, url: str, token: str | None = TOKEN) -> tuple[int, bytes]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with sandbox.http.get(url, headers=headers) as response:
        return response.status, await response.read()


async def test_upload_get_download_delete(sandbox: Sandbox) -> None:
    status, answer = await _upload(sandbox, PNG, "image/png", "foto.png")
    assert status == 200
    media_id = answer["id"]
    assert media_id.isdigit()

    status, info = await sandbox.call("GET", f"/v23.0/{media_id}")
    assert status == 200
    assert info["messaging_product"] == "whatsapp"
    assert info["mime_type"] == "image/png"
    assert info["sha256"] == hashlib.sha256(PNG).hexdigest()
    assert info["file_size"] == len(PNG)
    assert info["id"] == media_id
    assert info["url"].startswith(sandbox.base + "/media-download/")

    assert await _download(sandbox, info["url"]) == (200, PNG)
    status, _ = await _download(sandbox, info["url"], token=None)
    assert status == 401
    status, _ = await _download(sandbox, info["url"], token="nope")
    assert status == 401

    status, answer = await sandbox.call("GET", f"/v23.0/{media_id}", token="nope")
    assert (status, answer["error"]["code"]) == (401, 190)
    status, answer = await sandbox.call("GET", f"/v23.0/{media_id}?phone_number_id=999")
    assert status == 400

    status, answer = await sandbox.call("DELETE", f"/v23.0/{media_id}")
    assert (status, answer) == (200, {"success": True})
    status, answer = await sandbox.call("GET", f"/v23.0/{media_id}")
    assert status == 400
    assert answer["error"]["code"] == 100 and answer["error"]["error_subcode"] == 33
    status, _ = await _download(sandbox, info["url"])
    assert status == 404


async def test_download_url_expires_after_five_minutes(sandbox: Sandbox) -> None:
    _, answer = await _upload(sandbox, b"%PDF-1.4 test", "application/pdf", "e-statement.pdf")
    _, info = await sandbox.call("GET", f"/v23.0/{answer['id']}")
    await sandbox.advance(299)
    status, _ = await _download(sandbox, info["url"])
    assert status == 200
    await sandbox.advance(2)
    status, _body = await _download(sandbox, info["url"])
    assert status == 404
    # A fresh look-up gives a fresh URL.
    _, info = await sandbox.call("GET", f"/v23.0/{answer['id']}")
    assert (await _download(sandbox, info["url"]))[0] == 200


async def test_uploaded_media_lives_thirty_days(sandbox: Sandbox) -> None:
    _, answer = await _upload(sandbox, PNG, "image/png")
    await sandbox.advance(30 * 86400 - 1)
    status, _ = await sandbox.call("GET", f"/v23.0/{answer['id']}")
    assert status == 200
    await sandbox.advance(2)
    status, _ = await sandbox.call("GET", f"/v23.0/{answer['id']}")
    assert status == 400


async def test_upload_errors(sandbox: Sandbox) -> None:
    status, answer = await _upload(sandbox, b"GIF89a", "image/gif", "x.gif")
    assert (status, answer["error"]["code"]) == (400, 100)
    assert "image/gif" in answer["error"]["error_data"]["details"]
    status, answer = await _upload(sandbox, b"R" * (500 * 1024 + 1), "image/webp", "s.webp")
    assert (status, answer["error"]["code"]) == (400, 131053)
    status, answer = await _upload(sandbox, PNG, "image/png", product=None)
    assert (status, answer["error"]["code"]) == (400, 100)
    form = aiohttp.FormData()
    form.add_field("messaging_product", "whatsapp")
    async with sandbox.http.post(
        f"{sandbox.base}/v23.0/{PNID}/media", data=form, headers={"Authorization": f"Bearer {TOKEN}"}
    ) as response:
        assert response.status == 400
        assert "file" in (await response.json())["error"]["error_data"]["details"]


async def test_send_uploaded_media_by_id(sandbox: Sandbox, receiver: Receiver) -> None:
    await open_window(sandbox)
    _, answer = await _upload(sandbox, b"%PDF-1.4 test", "application/pdf", "e-statement.pdf")
    status, sent = await sandbox.send(
        {"to": CUSTOMER, "type": "document", "document": {"id": answer["id"], "filename": "Mutasi.pdf"}}
    )
    assert status == 200
    wamid = sent["messages"][0]["id"]
    await receiver.wait_for(
        lambda got: any(s["id"] == wamid and s["status"] == "delivered" for r in got for s in r.statuses)
    )
