"""The dispatcher: claims due outbox rows, passes them through the policy gate and the pacer, sends
them, records what Meta said.

No transaction is open while a request is in flight: a batch is claimed (state `sending`) and
committed, gated, paced and sent, then settled in batches (settle.py). Messages to one recipient go
out in order: only the oldest unsettled row per recipient can be claimed (a row the gate deferred
to a later slot does not hold the others back). A row left in `sending` by a crashed worker
becomes `unknown` (workers.py) and is reconciled from status webhooks (biz_opaque_callback_data
carries the outbox id), never blindly resent.

Gate (policy.py): Allow sends; Defer requeues at the exact next allowed moment without counting an
attempt; Refuse ends the row as `refused` and tells the institution; SwitchToTemplate sends the
row's approved fallback template. Pacing (ratelimit*.py): the number at its configured rate (with
headroom) and, for business-initiated purposes, the recipient at the pair rate; a slot further
away than a moment reschedules the row rather than holding a worker slot.
"""

from __future__ import annotations

import asyncio
import logging
import math
import random
import uuid
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import ColumnClause, Select, Table, and_, exists, literal_column, or_, select, text, update
from sqlalchemy.orm import aliased

from loket.channel.errors import ChannelError
from loket.channel.outgoing import JSONObject
from loket.channel.port import ChannelPort
from loket.clock import Clock, system_clock
from loket.db.engine import Database
from loket.db.models import OutboxMessage
from loket.metrics import OUTBOX_SENT, SEND_LATENCY
from loket.outbound.facts import DbPolicyFacts
from loket.outbound.metrics import DECISIONS, NUMBER_HELD, PACED, PACING_WAIT, SENT_BY_NUMBER
from loket.outbound.outbox import DEADLINE, READ_RECEIPT
from loket.outbound.outcomes import Outcome, outcome_for
from loket.outbound.policy import OutboundPolicy, PolicyRequest
from loket.outbound.policy_content import PolicyInputError
from loket.outbound.policy_rules import Decision, Defer, Purpose, Refuse, Rule, SwitchToTemplate, Verdict
from loket.outbound.ratelimit import PAIR_BURST, PAIR_RATE, LocalGcra, RateLimiter, pair_key, sender_key
from loket.outbound.settle import OutcomeListener, Settle, SettleWriter
from loket.tenancy.directory import NumberInfo, PhoneDirectory

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class StoredPayload:
    """An outbox payload, already validated when it was queued."""

    payload: dict[str, Any]

    @property
    def kind(self) -> str:
        return str(self.payload.get("type", "unknown"))

    def validate(self) -> None:
        return None

    def to_payload(self) -> JSONObject:
        return cast(JSONObject, self.payload)


@dataclass(frozen=True, slots=True)
class Claimed:
    id: int
    tenant_id: str
    phone_number_id: str
    to_wa_id: str
    kind: str
    payload: dict[str, Any]
    attempts: int
    context_message_id: str | None
    purpose: str
    fallback: dict[str, Any] | None
    origin: str | None
    deadline: datetime | None
    created_at: datetime

    @property
    def purpose_enum(self) -> Purpose:
        try:
            return Purpose(self.purpose)
        except ValueError:
            return Purpose.SERVICE

    def due_by(self) -> datetime:
        return self.deadline or self.created_at + DEADLINE[self.purpose_enum]


OUTBOX = cast(Table, OutboxMessage.__table__)
_QUEUED: ColumnClause[str] = literal_column("'queued'")
_SENDING: ColumnClause[str] = literal_column("'sending'")
_CLAIM_PLAN = text("SELECT set_config('enable_sort', 'off', true), set_config('enable_incremental_sort', 'off', true)")
_CLAIM_COLUMNS = tuple(
    OUTBOX.c[name]
    for name in (
        "id",
        "tenant_id",
        "phone_number_id",
        "to_wa_id",
        "kind",
        "payload",
        "attempts",
        "context_message_id",
        "purpose",
        "fallback",
        "origin",
        "deadline",
        "created_at",
    )
)


@dataclass(frozen=True, slots=True)
class Pacing:
    enabled: bool = True
    sender_headroom: float = 0.9  # pace a number at 90 % of its configured rate (timer jitter, fallback)
    sender_max_wait: float = 1.0  # a sender slot further away reschedules the row
    pair_max_wait: float = 0.25
    # Service replies answer the customer and rely on 131056 handling; the rest is paced up front.
    pair_paced: frozenset[Purpose] = field(default_factory=lambda: frozenset(Purpose) - {Purpose.SERVICE})

    def sender(self, number: NumberInfo) -> tuple[float, int]:
        configured = float(number.messages_per_second)
        return configured * self.sender_headroom, max(1, math.floor(configured * 0.05))


@dataclass(frozen=True, slots=True)
class _Go:
    row: Claimed
    payload: dict[str, Any]
    decisions: list[Decision]


class Dispatcher:
    def __init__(
        self,
        db: Database,
        channel: ChannelPort,
        directory: PhoneDirectory,
        *,
        clock: Clock = system_clock,
        concurrency: int = 64,
        worker_id: str | None = None,
        pace: bool | Pacing = True,
        limiter: RateLimiter | None = None,
        policy: OutboundPolicy | None = None,
        facts: DbPolicyFacts | None = None,
        listener: OutcomeListener | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self._db = db
        self._channel = channel
        self._directory = directory
        self._clock = clock
        self._concurrency = concurrency
        self._in_flight: set[asyncio.Task[None]] = set()
        self._busy = 0  # claimed rows not yet sent or set aside: what `concurrency` bounds
        self._released = asyncio.Event()
        self.pacing = pace if isinstance(pace, Pacing) else Pacing(enabled=pace)
        # (not `limiter or ...`: an empty LocalGcra is falsy, it has a __len__)
        self.limiter: RateLimiter = limiter if limiter is not None else LocalGcra(clock=clock)
        self.policy = policy if policy is not None else OutboundPolicy(clock=clock)
        self.facts = facts if facts is not None else DbPolicyFacts(db, directory, clock=clock, templates=None)
        self._rng = rng if rng is not None else random.Random()
        self.worker_id = worker_id or f"worker-{uuid.uuid4().hex[:8]}"
        self.writer = SettleWriter(db, self.worker_id, clock=clock, listener=listener)
        self.wake = asyncio.Event()

    # --- claiming -------------------------------------------------------------------------------

    def _due(self, limit: int) -> Select[Any]:
        """Due rows that head their recipient's queue: earlier messages to the same person go first,
        except ones the policy gate deferred to a later slot.

        The states are written into the SQL, not bound: a partial index (ix_outbox_claim,
        ix_outbox_recipient) is only usable when the planner sees the state, and SQLite (and a
        generic PostgreSQL plan) cannot see through a parameter.
        """
        now = self._clock.now()
        earlier = aliased(OutboxMessage)
        blocked = exists().where(
            and_(
                earlier.phone_number_id == OutboxMessage.phone_number_id,
                earlier.to_wa_id == OutboxMessage.to_wa_id,
                earlier.id < OutboxMessage.id,
                earlier.state.in_((_QUEUED, _SENDING)),
                or_(
                    earlier.state == _SENDING,
                    earlier.policy_verdict.is_(None),
                    earlier.policy_verdict != Verdict.DEFER.value,
                    earlier.not_before <= now,
                ),
            )
        )
        return (
            select(OutboxMessage.id)
            .where(OutboxMessage.state == _QUEUED, OutboxMessage.not_before <= now, ~blocked)
            .order_by(OutboxMessage.priority, OutboxMessage.id)
            .limit(limit)
        )

    async def claim(self, limit: int) -> list[Claimed]:
        now = self._clock.now()
        due = self._due(limit).with_for_update(skip_locked=True)
        async with self._db.transaction() as session:
            if self._db.is_postgres:
                # Walk ix_outbox_claim in order and stop at the limit, even when a burst has just made
                # the statistics stale (the planner would otherwise anti-join and sort every queued row).
                await session.execute(_CLAIM_PLAN)
            ids = list((await session.execute(due)).scalars())
            if not ids:
                return []
            rows = (
                await session.execute(
                    update(OUTBOX)
                    .where(OUTBOX.c.id.in_(ids), OUTBOX.c.state == _QUEUED)
                    .values(state="sending", claimed_by=self.worker_id, claimed_at=now)
                    .returning(*_CLAIM_COLUMNS)
                )
            ).all()
        return sorted((Claimed(*row) for row in rows), key=lambda row: row.id)

    # --- the policy gate ------------------------------------------------------------------------

    def _request(self, row: Claimed, payload: dict[str, Any]) -> PolicyRequest:
        return PolicyRequest(row.tenant_id, row.phone_number_id, row.to_wa_id, row.purpose_enum, payload)

    async def _gate(self, rows: Sequence[Claimed]) -> list[_Go]:
        go = [_Go(row, row.payload, []) for row in rows if row.kind == READ_RECEIPT]
        messages = [row for row in rows if row.kind != READ_RECEIPT]
        facts = await self.facts.facts_for([self._request(row, row.payload) for row in messages])
        switched: list[tuple[Claimed, Decision]] = []
        for row, fact in zip(messages, facts, strict=True):
            if isinstance(fact, PolicyInputError):
                self._spawn(self._finish(row, "dead", f"policy facts: {fact}"[:300]), row=True)
                continue
            decision = self._decided(self.policy.decide(fact))
            if isinstance(decision, SwitchToTemplate) and row.fallback:
                switched.append((row, decision))
            elif decision.verdict is Verdict.ALLOW:
                go.append(_Go(row, row.payload, [decision]))
            else:
                self._spawn(self._not_now(row, decision), row=True)
        if switched:
            again = await self.facts.facts_for([self._request(row, row.fallback or {}) for row, _ in switched])
            for (row, switch), fact in zip(switched, again, strict=True):
                if isinstance(fact, PolicyInputError):
                    failed = self._finish(row, "dead", f"fallback template: {fact}"[:300], decisions=[switch])
                    self._spawn(failed, row=True)
                    continue
                decision = self._decided(self.policy.decide(fact))
                if decision.verdict is Verdict.ALLOW:
                    go.append(_Go(row, row.fallback or {}, [switch, decision]))
                else:
                    self._spawn(self._not_now(row, decision, earlier=[switch]), row=True)
        return go

    @staticmethod
    def _decided(decision: Decision) -> Decision:
        DECISIONS.labels(decision.verdict.value, decision.rule_id).inc()
        return decision

    async def _not_now(self, row: Claimed, decision: Decision, earlier: Sequence[Decision] = ()) -> None:
        decisions = [*earlier, decision]
        if isinstance(decision, Defer):
            values = self._requeue_values(decision.until, counted=False, row=row)
            await self._settle(row, values | _policy_values(decision), decisions=decisions)
        elif isinstance(decision, Refuse | SwitchToTemplate):
            reason = f"refused by policy rule {decision.rule_id}" + (
                "" if isinstance(decision, Refuse) else " (no approved template to send instead)"
            )
            await self._finish(row, "refused", reason, decisions=decisions, notify="message.refused")
        else:  # an Allow never gets here
            raise AssertionError(decision)

    # --- sending --------------------------------------------------------------------------------

    async def _pace(self, row: Claimed, number: NumberInfo) -> float | None:
        """Wait for this send's slots; returns a delay when the row should be rescheduled instead."""
        rate, burst = self.pacing.sender(number)
        sender = await self.limiter.book(
            sender_key(row.phone_number_id), rate, burst, max_wait=self.pacing.sender_max_wait
        )
        if not sender.booked:
            PACED.labels("sender", "rescheduled").inc()
            return sender.wait
        wait = sender.wait
        if row.kind != READ_RECEIPT and row.purpose_enum in self.pacing.pair_paced:
            pair = await self.limiter.book(
                pair_key(row.phone_number_id, row.to_wa_id), PAIR_RATE, PAIR_BURST, max_wait=self.pacing.pair_max_wait
            )
            if not pair.booked:
                PACED.labels("pair", "rescheduled").inc()
                return pair.wait
            wait = max(wait, pair.wait)
        if wait > 0:
            PACED.labels("sender", "waited").inc()
            PACING_WAIT.observe(wait)
            await asyncio.sleep(wait)
        return None

    async def _send(self, go: _Go) -> None:
        row = go.row
        try:
            number = await self._directory.number(row.phone_number_id)
            if number is None or number.status != "active":
                await self._finish(row, "refused", "phone number not active", notify="message.refused")
                return
            token = await self._directory.access_token(row.phone_number_id)
            if self.pacing.enabled:
                delay = await self._pace(row, number)
                if delay is not None:
                    values = self._requeue_values(self._clock.now() + timedelta(seconds=delay), counted=False, row=row)
                    await self._settle(row, values, decisions=go.decisions)
                    return
            started = self._clock.monotonic()
            if row.kind == READ_RECEIPT:
                await self._channel.mark_read(
                    row.phone_number_id, token, str(row.payload["message_id"]), typing=bool(row.payload.get("typing"))
                )
                wamid = None
            else:
                sent = await self._channel.send(
                    row.phone_number_id,
                    token,
                    row.to_wa_id,
                    StoredPayload(go.payload),
                    biz_opaque_callback_data=str(row.id),
                    context_message_id=row.context_message_id,
                )
                wamid = sent.wamid
            SEND_LATENCY.observe(self._clock.monotonic() - started)
        except ChannelError as exc:
            await self._failed(go, exc)
            return
        except Exception as exc:
            # Not a channel answer (a bad payload, a missing token): retrying cannot help.
            log.exception("outbox %s could not be sent", row.id)
            OUTBOX_SENT.labels("dead").inc()
            await self._finish(row, "dead", type(exc).__name__, decisions=go.decisions, notify="message.failed")
            return
        OUTBOX_SENT.labels("sent").inc()
        SENT_BY_NUMBER.labels(row.phone_number_id).inc()
        sent_values: dict[str, Any] = {"state": "sent", "sent_at": self._clock.now(), "wamid": wamid}
        sent_values["attempts"] = row.attempts + 1
        if go.decisions:
            sent_values.update(_policy_values(go.decisions[-1]))
        if go.payload is not row.payload:
            sent_values.update(payload=go.payload, kind=str(go.payload.get("type", "unknown")))
        await self._settle(row, sent_values, decisions=go.decisions)

    async def _failed(self, go: _Go, exc: ChannelError) -> None:
        row = go.row
        attempts = row.attempts + 1
        outcome = outcome_for(
            exc,
            attempts=attempts,
            now=self._clock.now(),
            deadline=row.due_by(),
            has_fallback=bool(row.fallback) and go.payload is row.payload,
            rng=self._rng,
        )
        OUTBOX_SENT.labels(_legacy_label(exc, outcome)).inc()
        await self._hold(row, outcome)
        values: dict[str, Any] = {"last_error": outcome.reason, "last_error_code": outcome.code}
        if go.decisions:
            values.update(_policy_values(go.decisions[-1]))
        counted = attempts if outcome.count_attempt else row.attempts
        if outcome.state == "queued":
            at = self._clock.now() + timedelta(seconds=outcome.delay or 0.0)
            values |= self._requeue_values(at, counted=outcome.count_attempt, row=row)
            if outcome.use_template and row.fallback:
                values.update(payload=row.fallback, kind=str(row.fallback.get("type", "template")))
        else:
            values.update(state=outcome.state, attempts=counted)
        log.warning("outbox %s: %s (%s), attempt %d", row.id, outcome.state, outcome.code, attempts)
        await self._settle(row, values, decisions=go.decisions, opt_out=outcome.opt_out, notify=outcome.notify)

    async def _hold(self, row: Claimed, outcome: Outcome) -> None:
        if outcome.hold_sender:
            NUMBER_HELD.labels(row.phone_number_id).inc()
            await self.limiter.hold(sender_key(row.phone_number_id), outcome.hold_sender)
        if outcome.hold_pair:
            await self.limiter.hold(pair_key(row.phone_number_id, row.to_wa_id), outcome.hold_pair)

    def _requeue_values(self, at: datetime, *, counted: bool, row: Claimed) -> dict[str, Any]:
        return {
            "state": "queued",
            "not_before": at,
            "claimed_by": None,
            "claimed_at": None,
            "attempts": row.attempts + 1 if counted else row.attempts,
        }

    async def _finish(
        self,
        row: Claimed,
        state: str,
        reason: str,
        *,
        decisions: Sequence[Decision] = (),
        notify: str | None = None,
    ) -> None:
        values: dict[str, Any] = {"state": state, "last_error": reason[:300]}
        if decisions:
            values.update(_policy_values(decisions[-1]))
        await self._settle(row, values, decisions=list(decisions), notify=notify)

    async def _settle(
        self,
        row: Claimed,
        values: dict[str, Any],
        *,
        decisions: list[Decision],
        opt_out: bool = False,
        notify: str | None = None,
    ) -> None:
        item = Settle(row.id, row.tenant_id, row.to_wa_id, row.origin, values, decisions, opt_out, notify)
        # The worker slot is free once the request is answered; the row stays `sending` until the
        # settle commits, which is all the ordering and recovery rules need.
        self.writer.submit(item).add_done_callback(lambda _: self.wake.set())

    # --- the loop -------------------------------------------------------------------------------

    def _spawn(self, work: Awaitable[None], *, row: bool = False) -> None:
        """Run `work` in the background; `row=True`: it finishes one claimed row, freeing its slot."""
        task = asyncio.ensure_future(work)
        self._in_flight.add(task)
        task.add_done_callback(self._in_flight.discard)
        if row:
            task.add_done_callback(self._release)

    def _release(self, _: object) -> None:
        self._busy -= 1
        self._released.set()

    async def run_once(self) -> int:
        free = self._concurrency - self._busy
        if free <= 0:
            return 0
        rows = await self.claim(free)
        if not rows:
            return 0
        self._busy += len(rows)
        await self._gate_and_send(rows)
        return len(rows)

    async def _gate_and_send(self, rows: list[Claimed]) -> None:
        try:
            ready = await self._gate(rows)
        except Exception:
            log.exception("the policy gate could not run for %d rows; they go back to the queue", len(rows))
            for row in rows:
                values = self._requeue_values(self._clock.now() + timedelta(seconds=5), counted=False, row=row)
                self._spawn(self._settle(row, values, decisions=[]), row=True)
            return
        for go in ready:
            self._spawn(self._send(go), row=True)

    async def drain(self) -> None:
        """Send everything due now and wait for it (tests, shutdown)."""
        while True:
            await self.run_once()
            if not self._in_flight:
                await self.writer.flushed()
                if not await self.claim_peek():
                    return
                continue
            await asyncio.gather(*list(self._in_flight), return_exceptions=True)

    async def claim_peek(self) -> bool:
        async with self._db.sessions() as session:
            return (await session.execute(self._due(1))).first() is not None

    async def run_forever(self, *, idle_poll: float = 0.1) -> None:
        while True:
            try:
                claimed = await self.run_once()
            except Exception:
                log.exception("dispatch pass failed; retrying")
                claimed = 0
                await asyncio.sleep(1.0)
            if claimed:
                # Claim in batches, not a row at a time as single slots free up: each claim is a
                # transaction and a gate pass, whatever its size.
                while self._busy > self._concurrency // 2:
                    self._released.clear()
                    await self._released.wait()
                continue
            self.wake.clear()
            try:
                await asyncio.wait_for(self.wake.wait(), timeout=idle_poll)
            except TimeoutError:
                pass

    async def close(self) -> None:
        if self._in_flight:
            await asyncio.gather(*list(self._in_flight), return_exceptions=True)
        await self.writer.flushed()

    async def recover_stale(self) -> int:
        """Rows a crashed worker left in `sending` become `unknown` (see workers.py)."""
        from loket.outbound.workers import recover_claims

        return await recover_claims(self._db, clock=self._clock, exclude=self.worker_id)


def _policy_values(decision: Decision) -> dict[str, Any]:
    return {
        "policy_verdict": decision.verdict.value,
        "policy_rule": decision.rule_id,
        "policy_record": decision.as_record(),
        "purpose": decision.evaluation.purpose.value,
    }


def _legacy_label(exc: ChannelError, outcome: Outcome) -> str:
    """The `loket_outbox_sent_total` outcome label: the channel's action, as before the gate existed."""
    return exc.action.value if outcome.state != "dead" else "dead"


__all__ = ["Claimed", "Dispatcher", "Pacing", "Rule", "StoredPayload"]
