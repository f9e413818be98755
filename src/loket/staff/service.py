"""One object holding the staff services, built once per process and shared by routes and CLI."""

from __future__ import annotations

from dataclasses import dataclass

from loket.clock import Clock, system_clock
from loket.db.engine import Database
from loket.staff.accounts import Accounts
from loket.staff.apikeys import ApiKeys
from loket.staff.audit import AuditSink, NoAudit
from loket.staff.context import StaffContext
from loket.staff.passwords import HashParameters, Passwords
from loket.staff.policy import StaffKeys, StaffPolicy
from loket.staff.sessions import Sessions
from loket.staff.signin import SignIn
from loket.staff.throttle import IpLimiter, LoginThrottle


@dataclass(frozen=True)
class StaffService:
    ctx: StaffContext
    accounts: Accounts
    signin: SignIn
    api_keys: ApiKeys

    @classmethod
    def build(
        cls,
        db: Database,
        master_key: bytes,
        *,
        clock: Clock = system_clock,
        policy: StaffPolicy | None = None,
        hashing: HashParameters | None = None,
        audit: AuditSink | None = None,
    ) -> StaffService:
        policy = policy or StaffPolicy()
        ctx = StaffContext(
            db=db,
            clock=clock,
            policy=policy,
            keys=StaffKeys(master_key),
            passwords=Passwords(hashing),
            audit=audit or NoAudit(),
            limiter=IpLimiter(clock, limit=policy.failures_per_minute_per_ip),
            throttle=LoginThrottle(clock, policy, db.dialect),
        )
        sessions = Sessions(clock, policy)
        return cls(
            ctx=ctx,
            accounts=Accounts(ctx, sessions),
            signin=SignIn(ctx, sessions),
            api_keys=ApiKeys(ctx),
        )
