"""The permission matrix: the one source for code and for docs/permissions.md.

Regenerate the document with `python -m loket.staff.permissions > docs/permissions.md`;
a test fails when the two disagree.
"""

from __future__ import annotations

import enum
import sys
from dataclasses import dataclass


class Role(enum.StrEnum):
    PLATFORM_ADMIN = "platform_admin"
    TENANT_ADMIN = "tenant_admin"
    SUPERVISOR = "supervisor"
    AGENT = "agent"
    COMPLIANCE_OFFICER = "compliance_officer"
    FRAUD_ANALYST = "fraud_analyst"
    AUDITOR = "auditor"


# Permission names are stable strings: routes, CLI commands, audit records and docs refer to them.
PERMISSIONS: dict[str, str] = {
    "account.self": "Use one's own session: profile, tenant switcher, password change, sign-out everywhere",
    "conversations.read": "Read customer conversations (customer data masked)",
    "conversations.reply": "Reply to customers in a conversation",
    "conversations.assign": "Assign and reassign conversations between staff",
    "customers.read": "Read customer profiles with personal data masked",
    "customers.pii.reveal": "Reveal unmasked personal data of one customer (audited per reveal)",
    "templates.manage": "Draft and edit message templates",
    "templates.approve": "Approve a template for use (never one's own draft)",
    "campaigns.manage": "Prepare marketing campaigns and audiences",
    "campaigns.approve": "Approve a campaign for sending (never one's own)",
    "complaints.manage": "Register, handle and resolve customer complaints",
    "complaints.report": "Compile complaint reports for OJK",
    "fraud.cases": "Open, work and close fraud and scam cases",
    "dsr.manage": "Handle data-subject requests under UU PDP (access, correction, erasure, consent)",
    "evidence.read": "Read compliance evidence: consent records, disclosures shown, delivery proofs",
    "reports.read": "Read operational dashboards and aggregate reports",
    "audit.read": "Read the audit log of the tenant",
    "audit.export": "Export signed audit evidence packages",
    "staff.manage": "Create staff accounts, assign roles, reset passwords",
    "apikeys.manage": "Create, rotate and revoke API keys for the institution's systems",
    "settings.manage": "Change the tenant's settings",
    "tenants.manage": "Create and configure tenants and their phone numbers (platform only)",
}


@dataclass(frozen=True)
class RoleSpec:
    title: str
    description: str
    platform: bool
    permissions: frozenset[str]


def _perms(*names: str) -> frozenset[str]:
    unknown = [name for name in names if name not in PERMISSIONS]
    if unknown:
        raise ValueError(f"unknown permissions in the matrix: {', '.join(unknown)}")
    return frozenset(("account.self", *names))


ROLES: dict[Role, RoleSpec] = {
    Role.PLATFORM_ADMIN: RoleSpec(
        "Platform administrator",
        "Operates Loket across tenants. Manages tenants, staff and keys; reads no customer data.",
        True,
        _perms("tenants.manage", "staff.manage", "apikeys.manage", "settings.manage"),
    ),
    Role.TENANT_ADMIN: RoleSpec(
        "Tenant administrator",
        "The institution's administrator: its staff, keys, settings and content drafts.",
        False,
        _perms(
            "staff.manage",
            "apikeys.manage",
            "settings.manage",
            "templates.manage",
            "campaigns.manage",
            "reports.read",
            "audit.read",
        ),
    ),
    Role.SUPERVISOR: RoleSpec(
        "Supervisor",
        "Leads the agents: conversations, assignments, complaints, campaigns.",
        False,
        _perms(
            "conversations.read",
            "conversations.reply",
            "conversations.assign",
            "customers.read",
            "customers.pii.reveal",
            "complaints.manage",
            "campaigns.manage",
            "templates.manage",
            "reports.read",
        ),
    ),
    Role.AGENT: RoleSpec(
        "Agent",
        "Answers customers; sees personal data masked.",
        False,
        _perms("conversations.read", "conversations.reply", "customers.read", "complaints.manage"),
    ),
    Role.COMPLIANCE_OFFICER: RoleSpec(
        "Compliance officer",
        "Approves templates and campaigns, reports complaints to OJK, handles data-subject requests.",
        False,
        _perms(
            "conversations.read",
            "customers.read",
            "customers.pii.reveal",
            "templates.approve",
            "campaigns.approve",
            "complaints.report",
            "dsr.manage",
            "evidence.read",
            "reports.read",
            "audit.read",
            "audit.export",
        ),
    ),
    Role.FRAUD_ANALYST: RoleSpec(
        "Fraud analyst",
        "Works fraud and scam cases.",
        False,
        _perms("fraud.cases", "conversations.read", "customers.read", "customers.pii.reveal", "reports.read"),
    ),
    Role.AUDITOR: RoleSpec(
        "Auditor",
        "Read-only, evidence only: the audit log, compliance evidence and aggregate reports.",
        False,
        _perms("audit.read", "audit.export", "evidence.read", "reports.read"),
    ),
}

TENANT_ROLES = frozenset(role for role, spec in ROLES.items() if not spec.platform)


class UnknownPermission(ValueError):
    pass


def check_permission_name(permission: str) -> str:
    if permission not in PERMISSIONS:
        raise UnknownPermission(f"{permission!r} is not in the permission matrix (loket.staff.permissions)")
    return permission


def permissions_of(role: Role) -> frozenset[str]:
    return ROLES[role].permissions


def allows(role: Role, permission: str) -> bool:
    return check_permission_name(permission) in ROLES[role].permissions


def parse_role(value: str) -> Role:
    try:
        return Role(value)
    except ValueError:
        raise ValueError(f"unknown role {value!r}; roles are: {', '.join(r.value for r in Role)}") from None


def render_markdown() -> str:
    roles = list(Role)
    lines = [
        "# Staff roles and permissions",
        "",
        "<!-- GENERATED by `python -m loket.staff.permissions > docs/permissions.md`; do not edit. -->",
        "",
        "The matrix below is generated from `src/loket/staff/permissions.py`, the one source the code",
        "enforces: every route declares `require(permission)` and a test walks every route with every",
        "role. A platform role applies in every tenant; tenant roles apply in their tenant only.",
        "",
        "## Roles",
        "",
        "| Role | Name | Scope | Description |",
        "| --- | --- | --- | --- |",
    ]
    for role in roles:
        spec = ROLES[role]
        scope = "platform" if spec.platform else "tenant"
        lines.append(f"| `{role.value}` | {spec.title} | {scope} | {spec.description} |")
    lines += ["", "## Matrix", ""]
    lines.append("| Permission | " + " | ".join(f"`{role.value}`" for role in roles) + " |")
    lines.append("| --- |" + " :---: |" * len(roles))
    for permission in PERMISSIONS:
        marks = " | ".join("yes" if permission in ROLES[role].permissions else "" for role in roles)
        lines.append(f"| `{permission}` | {marks} |")
    lines += ["", "## Permissions", ""]
    lines += [f"- `{name}`: {text}." for name, text in PERMISSIONS.items()]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.stdout.write(render_markdown())
