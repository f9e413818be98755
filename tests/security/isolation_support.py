"""Two tenants with data, for the isolation tests (tests/security/test_isolation*.py, test_rls*.py)."""

from __future__ import annotations

import base64
from datetime import UTC, datetime

from sqlalchemy import insert

from loket.db.engine import Database
from loket.db.models import Conversation
from loket.demo import seed_tenants
from loket.security.secretbox import SecretBox
from support import TEST_MASTER_KEY

A = "bank-nusantara"
B = "asuransi-sejahtera"
NOW = datetime(2026, 11, 29, 8, 0, tzinfo=UTC)
WA_A = "628111000111"
WA_B = "628222000222"


async def two_tenants(db: Database) -> None:
    """The demo tenants and their numbers, and one conversation each (`db` seeds in the system scope)."""
    await seed_tenants(db, SecretBox(base64.urlsafe_b64decode(TEST_MASTER_KEY)))
    async with db.transaction() as session:
        for tenant, wa_id in ((A, WA_A), (B, WA_B)):
            await session.execute(
                insert(Conversation).values(
                    tenant_id=tenant, wa_id=wa_id, state={}, language="id", created_at=NOW, updated_at=NOW
                )
            )
