"""Account stubs: registration, two-step PIN, phone-number look-ups, and the webhook subscription handshake."""

from __future__ import annotations

from aiohttp import web
from sandbox_harness import DISPLAY, PNID, WABA, Sandbox


async def test_register_deregister_and_pin(sandbox: Sandbox) -> None:
    path = f"/v23.0/{PNID}/register"
    status, body = await sandbox.call(
        "POST", path, {"messaging_product": "whatsapp", "pin": "123456", "data_localization_region": "ID"}
    )
    assert (status, body) == (200, {"success": True})
    assert PNID in sandbox.state.registered
    status, body = await sandbox.call("POST", path, {"messaging_product": "whatsapp", "pin": "12"})
    assert (status, body["error"]["code"]) == (400, 100)
    status, body = await sandbox.call("POST", f"/v23.0/{PNID}/deregister", {})
    assert status == 200 and PNID not in sandbox.state.registered
    status, body = await sandbox.call("POST", f"/v23.0/{PNID}", {"pin": "654321"})
    assert (status, body) == (200, {"success": True})
    status, body = await sandbox.call("POST", path, {"messaging_product": "whatsapp", "pin": "123456"}, token="x")
    assert status == 401


async def test_phone_number_lookups(sandbox: Sandbox) -> None:
    status, node = await sandbox.call("GET", f"/v23.0/{PNID}")
    assert status == 200
    assert node["display_phone_number"] == DISPLAY and node["verified_name"] == "Bank Uji"
    status, listed = await sandbox.call("GET", f"/v23.0/{WABA}/phone_numbers")
    assert status == 200 and [n["id"] for n in listed["data"]] == [PNID]
    status, _ = await sandbox.call("GET", f"/v23.0/{WABA}/phone_numbers", token="nope")
    assert status == 401


async def test_subscription_handshake(sandbox: Sandbox) -> None:
    seen: dict[str, str] = {}

    async def verify(request: web.Request) -> web.Response:
        seen.update(request.query)
        if request.query.get("hub.verify_token") != "rahasia":
            return web.Response(status=403, text="Forbidden")
        return web.Response(text=request.query["hub.challenge"])

    app = web.Application()
    app.router.add_get("/webhooks/whatsapp", verify)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        sandbox.state.settings.webhook_url = f"http://127.0.0.1:{runner.addresses[0][1]}/webhooks/whatsapp"
        status, body = await sandbox.call("POST", "/_sandbox/webhooks/verify", {"verify_token": "rahasia"}, token=None)
        assert (status, body) == (200, {"verified": True, "status": 200})
        assert seen["hub.mode"] == "subscribe"
        status, body = await sandbox.call("POST", "/_sandbox/webhooks/verify", {"verify_token": "salah"}, token=None)
        assert body == {"verified": False, "status": 403}
    finally:
        await runner.cleanup()
