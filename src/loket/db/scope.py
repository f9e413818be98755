"""The tenant scope of database work: which tenant's rows a transaction may see and write.

The scope lives in a context variable, so it follows the request or task that set it and never
leaks into another: a web request binds it once it knows who is calling (`bind_tenant`), a worker
names it around the work it does (`tenant_scope`, `system_scope`). `loket.db.engine.Database`
reads it at the start of every transaction: on PostgreSQL it becomes `SET LOCAL loket.tenant_id`
(or `loket.scope = 'system'`) for the row-level security policies, and on both engines the ORM
filters every query on a tenant table by it (`loket.db.tenant_filter`).

Work that by nature spans tenants (a webhook batch, the outbox claim, sign-in before the tenant
is known) runs in the system scope, and only for one of the reasons listed in `SystemReason`:
adding a place that bypasses tenant isolation means adding a reason here, in review.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from enum import StrEnum


class SystemReason(StrEnum):
    """The listed places where Loket works across tenants (docs/tenant-isolation.md)."""

    WEBHOOK_INGEST = "webhook ingest: one group commit holds many tenants' messages"
    EVENTS_INTAKE = "events API group commit: one transaction holds several institutions' events"
    INBOX_CLAIM = "inbox processor: claims the next pending messages of any tenant"
    OUTBOX_CLAIM = "outbox dispatcher: claims due sends of any tenant and recovers crashed workers"
    STATUS_APPLY = "status applier: delivery statuses arrive before their tenant is known"
    DIRECTORY = "tenant directory: maps a business phone number to its tenant"
    STAFF_AUTH = "staff sign-in and sessions: the tenant is known only once the session is"
    FLOW_TOKEN = "WhatsApp Flow data endpoint: the single-use flow token names its tenant"  # noqa: S105 - not a secret
    PLATFORM_ADMIN = "platform administration: acting across tenants by role"
    SCHEDULER = "scheduled jobs that sweep every tenant (timeouts, digests, callbacks, retention)"
    OPERATOR_CLI = "operator command line: run by whoever holds the database credentials"
    DEMO_SEED = "demo and test data loading"


@dataclass(frozen=True)
class Scope:
    tenant_id: str | None = None
    system: SystemReason | None = None

    def __post_init__(self) -> None:
        if (self.tenant_id is None) == (self.system is None):
            raise ValueError("a scope is either one tenant or the system scope, with its reason")
        if self.tenant_id is not None and not self.tenant_id.strip():
            raise ValueError("a tenant scope needs a tenant id")

    @property
    def is_system(self) -> bool:
        return self.system is not None

    def allows(self, tenant_id: str | None) -> bool:
        return self.is_system or (tenant_id is not None and tenant_id == self.tenant_id)


# The default scope of the operator's command-line tools and of demo seeding: `Database(url, default_scope=OPERATOR)`.
OPERATOR = Scope(system=SystemReason.OPERATOR_CLI)
SEEDING = Scope(system=SystemReason.DEMO_SEED)


class ScopeError(Exception):
    """Database work on tenant data outside its scope (none, or another tenant's)."""


_CURRENT: ContextVar[Scope | None] = ContextVar("loket_db_scope", default=None)


def current_scope() -> Scope | None:
    return _CURRENT.get()


@contextmanager
def _using(scope: Scope | None) -> Iterator[Scope | None]:
    token = _CURRENT.set(scope)
    try:
        yield scope
    finally:
        _CURRENT.reset(token)


def tenant_scope(tenant_id: str) -> AbstractContextManager[Scope | None]:
    """Work inside one tenant: `with tenant_scope("bank-nusantara"): ...`."""
    return _using(Scope(tenant_id=tenant_id))


def system_scope(reason: SystemReason) -> AbstractContextManager[Scope | None]:
    """Work across tenants, for one of the listed reasons."""
    if not isinstance(reason, SystemReason):
        raise TypeError("system_scope needs a SystemReason: cross-tenant places are listed, not ad hoc")
    return _using(Scope(system=reason))


def unscoped() -> AbstractContextManager[Scope | None]:
    """Drop any inherited scope (a new request, a task that must name its own)."""
    return _using(None)


def bind_tenant(tenant_id: str) -> None:
    """Set the scope for the rest of the current task (a request, once its caller is known)."""
    _CURRENT.set(Scope(tenant_id=tenant_id))


def bind_system(reason: SystemReason) -> None:
    if not isinstance(reason, SystemReason):
        raise TypeError("bind_system needs a SystemReason")
    _CURRENT.set(Scope(system=reason))


def clear() -> None:
    _CURRENT.set(None)
