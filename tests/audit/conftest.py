"""Fixtures of the audit tests (constants live in audit_support.py)."""

from __future__ import annotations

import pytest
from audit_support import MASTER, ORIGIN_BASE

from loket.audit.canonical import Pseudonymizer
from loket.audit.keys import KeyRing
from loket.audit.log import AuditLog
from loket.clock import FakeClock
from loket.db.engine import Database
from loket.security.secretbox import SecretBox


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def audit(db: Database, clock: FakeClock) -> AuditLog:
    return AuditLog(db, Pseudonymizer(MASTER), clock=clock)


@pytest.fixture
def keyring(db: Database, clock: FakeClock) -> KeyRing:
    return KeyRing(db, SecretBox(MASTER), origin_base=ORIGIN_BASE, clock=clock)
