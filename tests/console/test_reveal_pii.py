"""Revealing masked personal data: a reason and a category are required, the audit entry is written
before the value is shown, and only roles with customers.pii.reveal may do it."""

from __future__ import annotations

import pytest
from conversation_harness import ACCOUNT_NUMBER, WA_ID, Desk, desk, page_text

from loket.console.reveal import RevealRefused, RevealRequest, mask_email, mask_name, mask_number, mask_phone
from loket.staff.permissions import Role
from staff.staff_harness import TENANT_A

__all__ = ["desk"]


def test_masks() -> None:
    assert mask_name("Budi Santoso") == "B*** S******"
    assert mask_phone("6281234567890") == "+62 812-****-7890"
    assert mask_number("1234567894321") == "**** 4321"
    assert mask_number("123") == "****"
    assert mask_email("budi@example.com") == "b***@example.com"


@pytest.mark.parametrize(
    ("field", "category", "reason", "code"),
    [
        ("name", "customer_request", "", "reason"),
        ("name", "customer_request", "abc", "reason"),
        ("name", "curiosity", "nasabah minta konfirmasi", "category"),
        ("password", "customer_request", "nasabah minta konfirmasi", "field"),
        ("name", "customer_request", "x" * 501, "reason_long"),
    ],
)
def test_an_incomplete_request_is_refused(field: str, category: str, reason: str, code: str) -> None:
    with pytest.raises(RevealRefused) as caught:
        RevealRequest.parse(field, category, reason)
    assert caught.value.code == code


async def test_a_supervisor_reveals_with_a_reason_and_the_audit_log_has_it(desk: Desk) -> None:
    conversation = await desk.conversation()
    supervisor = await desk.staff("spv@bank-a.test", Role.SUPERVISOR)
    page = page_text(await supervisor.get(f"/console/conversations/{conversation}"))
    assert "B*** S******" in page and 'name="reason"' in page

    shown = await supervisor.form(
        f"/console/conversations/{conversation}/reveal",
        {"field": "name", "category": "identity_check", "reason": "Nasabah minta verifikasi nama di rekening"},
    )

    assert shown.status == 200
    assert "Budi Santoso" in page_text(shown)
    [entry] = await desk.audit_entries(TENANT_A, "pii.revealed")
    assert entry.fields["field"] == "name" and entry.fields["reason"] == "identity_check"
    assert entry.fields["case"] == f"conversation:{conversation}"
    assert entry.actor is not None and entry.actor.startswith("staff:")
    # The customer and the free-text reason are keyed hashes, never in clear.
    text = str(entry.fields)
    assert WA_ID[TENANT_A] not in text and "verifikasi" not in text and "Budi" not in text
    # A reload shows the masked value again: a reveal is for one view.
    assert "Budi Santoso" not in page_text(await supervisor.get(f"/console/conversations/{conversation}"))


async def test_an_account_number_and_the_phone_number_are_revealed_one_at_a_time(desk: Desk) -> None:
    conversation = await desk.conversation()
    officer = await desk.staff("kepatuhan@bank-a.test", Role.COMPLIANCE_OFFICER)

    shown = await officer.form(
        f"/console/conversations/{conversation}/reveal",
        {"field": "account:acc-1", "category": "complaint_handling", "reason": "Pengaduan transaksi ganda"},
    )
    assert shown.status == 200 and ACCOUNT_NUMBER in page_text(shown)
    assert "+62 812-3456-7890" not in page_text(shown)

    phone = await officer.form(
        f"/console/conversations/{conversation}/reveal",
        {"field": "phone", "category": "customer_request", "reason": "Nasabah minta ditelepon balik"},
    )
    assert "+62 812-3456-7890" in page_text(phone)
    assert [e.fields["field"] for e in await desk.audit_entries(TENANT_A, "pii.revealed")] == ["account", "phone"]


async def test_without_a_reason_nothing_is_revealed_or_logged(desk: Desk) -> None:
    conversation = await desk.conversation()
    supervisor = await desk.staff("spv@bank-a.test", Role.SUPERVISOR)

    refused = await supervisor.form(
        f"/console/conversations/{conversation}/reveal", {"field": "name", "category": "identity_check", "reason": " "}
    )

    assert refused.status == 422
    assert "Tuliskan alasan" in page_text(refused) and "Budi Santoso" not in page_text(refused)
    assert await desk.audit_entries(TENANT_A, "pii.revealed") == []


async def test_an_agent_cannot_reveal(desk: Desk) -> None:
    conversation = await desk.conversation()
    agent = await desk.staff("agen@bank-a.test", Role.AGENT)

    denied = await agent.form(
        f"/console/conversations/{conversation}/reveal",
        {"field": "name", "category": "identity_check", "reason": "ingin tahu saja"},
    )

    assert denied.status == 403 and "Budi Santoso" not in page_text(denied)
    assert await desk.audit_entries(TENANT_A, "pii.revealed") == []
