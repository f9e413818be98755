"""The permission matrix: one source, consistent, and the document generated from it is current."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from loket.staff.access import Membership, Principal, default_scope, effective_role
from loket.staff.errors import Forbidden, InvalidRequest
from loket.staff.permissions import (
    PERMISSIONS,
    ROLES,
    TENANT_ROLES,
    Role,
    UnknownPermission,
    allows,
    parse_role,
    render_markdown,
)
from loket.staff.web import require

DOC = Path(__file__).parents[2] / "docs" / "permissions.md"
CUSTOMER_DATA = {"conversations.read", "conversations.reply", "customers.read", "customers.pii.reveal"}


def test_docs_permissions_md_is_generated_from_the_matrix() -> None:
    assert DOC.read_text() == render_markdown(), "run: python -m loket.staff.permissions > docs/permissions.md"


def test_the_module_prints_the_document() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "loket.staff.permissions"], capture_output=True, text=True, check=True
    ).stdout
    assert out == render_markdown()


def test_every_role_is_in_the_matrix_and_every_permission_is_named() -> None:
    assert set(ROLES) == set(Role)
    for spec in ROLES.values():
        assert spec.permissions <= PERMISSIONS.keys()
        assert "account.self" in spec.permissions
    assert all(name == name.lower() and "." in name for name in PERMISSIONS)
    granted = set().union(*(spec.permissions for spec in ROLES.values()))
    assert granted == set(PERMISSIONS), "a permission nobody holds is a typo or dead code"


def test_the_auditor_reads_evidence_and_nothing_else() -> None:
    assert ROLES[Role.AUDITOR].permissions == {
        "account.self", "audit.read", "audit.export", "evidence.read", "reports.read"
    }  # fmt: skip


def test_separation_of_duties() -> None:
    assert not ROLES[Role.PLATFORM_ADMIN].permissions & CUSTOMER_DATA  # operators do not read customer data
    for role in Role:
        perms = ROLES[role].permissions
        assert not {"templates.manage", "templates.approve"} <= perms, f"{role} drafts and approves templates"
        assert not {"campaigns.manage", "campaigns.approve"} <= perms, f"{role} prepares and approves campaigns"
    assert not allows(Role.AGENT, "customers.pii.reveal")
    assert TENANT_ROLES == set(Role) - {Role.PLATFORM_ADMIN}


def test_unknown_names_fail_loudly() -> None:
    with pytest.raises(UnknownPermission):
        allows(Role.AGENT, "conversation.read")
    with pytest.raises(UnknownPermission):
        require("customers.pii.show")
    with pytest.raises(ValueError, match="roles are"):
        parse_role("admin")
    assert require("audit.read") is require("audit.read")  # one dependency per permission


def test_effective_role_and_default_scope() -> None:
    member = [Membership("bank-a", Role.AGENT), Membership("bank-b", Role.AUDITOR)]
    operator = [Membership(None, Role.PLATFORM_ADMIN), Membership("bank-b", Role.SUPERVISOR)]
    assert effective_role(member, "bank-b") is Role.AUDITOR
    assert effective_role(member, "bank-c") is None
    assert effective_role(member, None) is None
    assert effective_role(operator, "bank-z") is Role.PLATFORM_ADMIN
    assert effective_role(operator, "bank-b") is Role.SUPERVISOR
    assert default_scope(member, "bank-b") == "bank-b"
    assert default_scope(member, "bank-z") == "bank-a"
    assert default_scope([Membership(None, Role.PLATFORM_ADMIN)], "bank-z") is None


def test_principal_checks() -> None:
    agent = Principal(user_id="u", session_id="s", tenant_id="bank-a", role=Role.AGENT)
    agent.demand("conversations.reply")
    with pytest.raises(Forbidden, match=r"customers\.pii\.reveal"):
        agent.demand("customers.pii.reveal")
    platform = Principal(user_id="u", session_id="s", tenant_id=None, role=Role.PLATFORM_ADMIN)
    with pytest.raises(InvalidRequest, match="switch to a tenant"):
        platform.tenant()
