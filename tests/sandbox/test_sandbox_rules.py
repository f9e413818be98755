"""The Cloud API's rules: 24-hour window, template approval and parameters, throughput, pair rate, tokens."""

from __future__ import annotations

from sandbox_harness import (
    CUSTOMER,
    CUSTOMER_2,
    DISPLAY,
    PNID,
    WABA,
    Receiver,
    Sandbox,
    add_template,
    open_window,
    template_message,
)

from loket.sandbox import PhoneNumber


def _code(answer: object) -> int:
    assert isinstance(answer, dict)
    return int(answer["error"]["code"])


async def test_window_closed_before_first_inbound(sandbox: Sandbox) -> None:
    status, answer = await sandbox.send_text()
    assert status == 400
    assert _code(answer) == 131047
    assert "24 hours" in answer["error"]["error_data"]["details"]


async def test_window_opens_on_inbound_and_closes_after_24_hours(sandbox: Sandbox) -> None:
    await open_window(sandbox)
    status, _ = await sandbox.send_text()
    assert status == 200
    await sandbox.advance(24 * 3600 - 10)
    status, _ = await sandbox.send_text()
    assert status == 200
    await sandbox.advance(11)
    status, answer = await sandbox.send_text()
    assert (status, _code(answer)) == (400, 131047)
    # A template is allowed outside the window.
    add_template(sandbox)
    status, _ = await sandbox.send({"to": CUSTOMER, **template_message()})
    assert status == 200
    # The customer writing again reopens it.
    await open_window(sandbox)
    status, _ = await sandbox.send_text()
    assert status == 200


async def test_window_is_per_customer(sandbox: Sandbox) -> None:
    await open_window(sandbox, CUSTOMER)
    _status, answer = await sandbox.send_text(CUSTOMER_2)
    assert _code(answer) == 131047


async def test_template_missing_pending_rejected(sandbox: Sandbox) -> None:
    status, answer = await sandbox.send({"to": CUSTOMER, **template_message("tidak_ada")})
    assert (status, _code(answer)) == (400, 132001)
    assert "tidak_ada" in answer["error"]["error_data"]["details"]

    add_template(sandbox, "menunggu", "Halo {{1}} {{2}}", status="PENDING")
    status, answer = await sandbox.send({"to": CUSTOMER, **template_message("menunggu")})
    assert (status, _code(answer)) == (400, 132001)
    assert "PENDING" in answer["error"]["error_data"]["details"]

    template_id = add_template(sandbox, "ditolak", "Halo {{1}} {{2}}", status="PENDING")
    status, _ = await sandbox.call("POST", f"/_sandbox/templates/{template_id}/reject", {"reason": "PROMOTIONAL"})
    assert status == 200
    status, answer = await sandbox.send({"to": CUSTOMER, **template_message("ditolak")})
    assert (status, _code(answer)) == (400, 132001)
    assert "REJECTED" in answer["error"]["error_data"]["details"]

    add_template(sandbox, "hanya_inggris", "Hi {{1}} {{2}}", language="en_US")
    status, answer = await sandbox.send({"to": CUSTOMER, **template_message("hanya_inggris", language="id")})
    assert _code(answer) == 132001


async def test_template_parameter_count_and_format(sandbox: Sandbox) -> None:
    add_template(sandbox)
    status, answer = await sandbox.send({"to": CUSTOMER, **template_message(params=("Siti",))})
    assert (status, _code(answer)) == (400, 132000)
    assert "(1)" in answer["error"]["error_data"]["details"] and "(2)" in answer["error"]["error_data"]["details"]
    status, answer = await sandbox.send({"to": CUSTOMER, **template_message(params=("a", "b", "c"))})
    assert _code(answer) == 132000

    add_template(sandbox, "dengan_gambar", "Halo {{1}}", header={"format": "IMAGE"})
    no_header = template_message("dengan_gambar", ("Siti",))
    status, answer = await sandbox.send({"to": CUSTOMER, **no_header})
    assert _code(answer) == 132000
    wrong_header = template_message(
        "dengan_gambar", ("Siti",), more_components=[{"type": "header", "parameters": [{"type": "text", "text": "x"}]}]
    )
    status, answer = await sandbox.send({"to": CUSTOMER, **wrong_header})
    assert _code(answer) == 132012
    good = template_message(
        "dengan_gambar",
        ("Siti",),
        more_components=[
            {"type": "header", "parameters": [{"type": "image", "image": {"link": "https://b.example/x.png"}}]}
        ],
    )
    status, answer = await sandbox.send({"to": CUSTOMER, **good})
    assert status == 200, answer


async def test_template_renders_for_the_phone(sandbox: Sandbox) -> None:
    add_template(
        sandbox,
        "konfirmasi",
        "Transfer {{1}} ke {{2}}?",
        header={"format": "TEXT", "text": "Konfirmasi {{1}}"},
        buttons=[
            {"type": "QUICK_REPLY", "text": "Ya"},
            {"type": "URL", "text": "Detail", "url": "https://b.example/t/{{1}}"},
        ],
    )
    message = template_message(
        "konfirmasi",
        ("Rp 1.000.000", "Budi"),
        more_components=[
            {"type": "header", "parameters": [{"type": "text", "text": "transfer"}]},
            {
                "type": "button",
                "sub_type": "quick_reply",
                "index": "0",
                "parameters": [{"type": "payload", "payload": "YES-1"}],
            },
            {"type": "button", "sub_type": "url", "index": "1", "parameters": [{"type": "text", "text": "abc"}]},
        ],
    )
    status, answer = await sandbox.send({"to": CUSTOMER, **message})
    assert status == 200, answer
    rendered = sandbox.state.chats.sent[-1].rendered
    assert rendered is not None
    assert rendered["header"] == {"type": "text", "text": "Konfirmasi transfer"}
    assert rendered["body"] == "Transfer Rp 1.000.000 ke Budi?"
    assert rendered["buttons"][0]["payload"] == "YES-1"
    assert rendered["buttons"][1]["url"] == "https://b.example/t/abc"


async def test_throughput_130429(sandbox: Sandbox) -> None:
    add_template(sandbox)
    sandbox.state.numbers[PNID].messages_per_second = 2
    recipients = ["6281200000001", "6281200000002", "6281200000003"]
    results = [await sandbox.send({"to": to, **template_message()}) for to in recipients]
    assert [status for status, _ in results] == [200, 200, 429]
    assert _code(results[2][1]) == 130429
    await sandbox.advance(0.5)
    status, _ = await sandbox.send({"to": recipients[2], **template_message()})
    assert status == 200


async def test_pair_rate_131056(sandbox: Sandbox) -> None:
    await open_window(sandbox)
    burst = sandbox.state.settings.pair_rate_burst
    for _ in range(burst):
        status, _ = await sandbox.send_text()
        assert status == 200
    status, answer = await sandbox.send_text()
    assert (status, _code(answer)) == (400, 131056)
    # Other customers are not affected.
    await open_window(sandbox, CUSTOMER_2)
    status, _ = await sandbox.send_text(CUSTOMER_2)
    assert status == 200
    await sandbox.advance(sandbox.state.settings.pair_rate_interval_seconds)
    status, _ = await sandbox.send_text()
    assert status == 200


async def test_access_token_190(sandbox: Sandbox) -> None:
    for token in (None, "wrong"):
        status, answer = await sandbox.send_text(token=token)
        assert status == 401
        assert _code(answer) == 190
    sandbox.state.add_number(PhoneNumber("333000333000333", "6281100000003", "444", "other-token"))
    status, answer = await sandbox.send_text(token="other-token")
    assert (status, _code(answer)) == (401, 190)
    status, answer = await sandbox.send_text(token="other-token", pnid="999")
    assert status == 400 and answer["error"]["error_subcode"] == 33


async def test_sending_to_yourself_131021(sandbox: Sandbox) -> None:
    add_template(sandbox)
    _status, answer = await sandbox.send({"to": DISPLAY, **template_message()})
    assert _code(answer) == 131021


async def test_unknown_recipient_fails_asynchronously(sandbox: Sandbox, receiver: Receiver) -> None:
    add_template(sandbox)
    sandbox.state.settings.non_whatsapp_numbers = frozenset()
    for to in ("12345", "6289999999999"):
        if to == "6289999999999":
            sandbox.state.is_whatsapp_user = lambda wa_id: wa_id != "6289999999999"
        status, answer = await sandbox.send({"to": to, **template_message(), "biz_opaque_callback_data": f"ob-{to}"})
        assert status == 200
        wamid = answer["messages"][0]["id"]
        await receiver.wait_for(lambda got, w=wamid: any(s["id"] == w for r in got for s in r.statuses))
        statuses = receiver.statuses(wamid)
        assert [s["status"] for s in statuses] == ["failed"]
        assert statuses[0]["errors"][0]["code"] == 131026
        assert statuses[0]["biz_opaque_callback_data"] == f"ob-{to}"


async def test_unknown_media_id_fails_asynchronously(sandbox: Sandbox, receiver: Receiver) -> None:
    await open_window(sandbox)
    status, answer = await sandbox.send({"to": CUSTOMER, "type": "image", "image": {"id": "1234567890"}})
    assert status == 200
    wamid = answer["messages"][0]["id"]
    await receiver.wait_for(lambda got: any(s["id"] == wamid for r in got for s in r.statuses))
    assert receiver.statuses(wamid)[0]["errors"][0]["code"] == 131053


async def test_any_graph_version_is_served(sandbox: Sandbox) -> None:
    await open_window(sandbox)
    for version in ("v17.0", "v25.0"):
        status, _ = await sandbox.call(
            "POST",
            f"/{version}/{PNID}/messages",
            {"messaging_product": "whatsapp", "to": CUSTOMER, "text": {"body": "hi"}},
        )
        assert status == 200
    status, _ = await sandbox.call("POST", f"/version1/{PNID}/messages", {"messaging_product": "whatsapp"})
    assert status == 404
    assert WABA
