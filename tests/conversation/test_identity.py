"""Identity: a number is bound to a customer only through the institution's records; a changed
number or a new number claiming to be someone never inherits access."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from script_support import BANK, Script, body_of, customer_of, scripted_stack
from sqlalchemy import select

from loket.config import Settings
from loket.db.engine import Database
from loket.db.models import Conversation
from loket.dialogue.tables import SecuritySignal
from stack import Stack
from support import TEST_SCOPE


@pytest.fixture
async def stack(settings: Settings) -> AsyncIterator[Stack]:
    async with scripted_stack(settings) as running:
        yield running


async def test_a_changed_number_never_inherits_access(stack: Stack) -> None:
    customer = customer_of(stack, BANK, "id")
    script = Script(stack, customer)
    await script.says("saldo")
    await script.approve_in_app()
    [balance] = await script.expect(1)
    assert "Saldo rekening Anda" in body_of(balance)
    new_wa_id = "6281255501234"
    await script.webhook(
        {
            "type": "system",
            "system": {"body": "Pelanggan mengganti nomor", "wa_id": new_wa_id, "type": "user_changed_number"},
        }
    )
    await script.quiet(1.0)  # a system event gets no reply
    # The old number, even though it was elevated a moment ago, is a stranger now.
    [refused, _menu] = await script.says("saldo", expect=2)
    assert "belum terdaftar" in body_of(refused) and "Rp" not in body_of(refused)
    # The new number is not registered with the bank: public services only, whatever it claims.
    newcomer = Script(stack, {**customer, "wa_id": new_wa_id})
    [claimed, _] = await newcomer.says(f"ini nomor baru saya, saya {customer['name']}, cek saldo dong", expect=2)
    assert "belum terdaftar" in body_of(claimed) and "Rp" not in body_of(claimed)
    assert await stack.core.pending_step_ups(BANK, customer["customer_id"]) == []
    db = Database(stack.settings.effective_database_url, default_scope=TEST_SCOPE)
    try:
        async with db.sessions() as session:
            bindings = {c.wa_id: c.customer_id for c in (await session.execute(select(Conversation))).scalars()}
            signals = [s.kind for s in (await session.execute(select(SecuritySignal))).scalars()]
    finally:
        await db.dispose()
    assert bindings[customer["wa_id"]] is None and bindings[new_wa_id] is None
    assert "number_changed" in signals
